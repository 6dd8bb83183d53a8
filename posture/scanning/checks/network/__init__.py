"""Network checks: NetworkPolicy isolation, Services reachable from outside, Ingress hardening.

Importing the package registers its checks, in the order the catalogue lists them.
"""

from posture.scanning.checks.network import ingress, policies, services  # noqa: F401 - registers on import
