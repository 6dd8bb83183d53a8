"""The check catalogue. Importing a family module registers its checks."""

from posture.scanning.checks.registry import CheckRegistry, registry


def load_catalogue() -> CheckRegistry:
    from posture.scanning.checks import (  # noqa: F401 - registers on import
        control_plane,
        namespaces,
        network,
        rbac,
        secrets,
        workloads,
    )

    return registry
