"""RBAC checks: who can do what, judged from bindings, roles (with aggregation) and subjects.

Importing the package registers its checks.
"""

from posture.scanning.checks.rbac import bindings, capabilities  # noqa: F401 - registers on import
