"""Network checks: NetworkPolicy isolation, Services reachable from outside, Ingress hardening.

Importing the package registers its checks, in the order the catalogue lists them.
"""

from posture.scanning.checks.network import (  # noqa: F401 - registers on import
    ingress,
    interfaces,
    policies,
    services,
)
