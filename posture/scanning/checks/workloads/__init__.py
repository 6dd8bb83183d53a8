"""Workload checks: each sees a controller (or bare Pod) through its pod template.

Importing the package registers its checks, in the order the catalogue lists them.
"""

from posture.scanning.checks.workloads import (  # noqa: F401 - registers on import
    end_of_life,
    environment,
    host,
    identity,
    images,
    placement,
    resources,
    security_context,
    security_modules,
)
