"""Small builders for check tests: plain dicts shaped like the API's, and one way to run a check."""

from datetime import UTC, datetime

from posture.scanning import engine
from posture.scanning.checks import load_catalogue
from posture.scanning.engine import CheckSettings
from posture.scanning.inventory import Inventory

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


def container(name="app", image="registry.example.com/shop/app:1.4.2", **fields) -> dict:
    return {"name": name, "image": image, **fields}


def hardened_container(name="app", **fields) -> dict:
    """A container every container-level check passes."""
    return container(
        name,
        image="registry.example.com/shop/app:1.4.2@sha256:" + "a" * 64,
        imagePullPolicy="Always",
        securityContext={
            "runAsNonRoot": True,
            "runAsUser": 10001,
            "readOnlyRootFilesystem": True,
            "allowPrivilegeEscalation": False,
            "capabilities": {"drop": ["ALL"]},
            "seccompProfile": {"type": "RuntimeDefault"},
        },
        resources={"requests": {"cpu": "100m", "memory": "64Mi"}, "limits": {"cpu": "1", "memory": "128Mi"}},
        livenessProbe={"httpGet": {"path": "/healthz", "port": 8080}},
        readinessProbe={"httpGet": {"path": "/readyz", "port": 8080}},
        **fields,
    )


def pod(*containers, name="web", namespace="shop", labels=None, annotations=None, **spec) -> dict:
    metadata = {"name": name, "namespace": namespace, "labels": labels or {"app": name}}
    if annotations:
        metadata["annotations"] = annotations
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": metadata,
        "spec": {"containers": list(containers) or [container()], **spec},
    }


def deployment(*containers, name="web", namespace="shop", labels=None, annotations=None, **spec) -> dict:
    labels = labels or {"app": name}
    metadata = {"name": name, "namespace": namespace, "labels": labels}
    if annotations:
        metadata["annotations"] = annotations
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": metadata,
        "spec": {
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                "spec": {"containers": list(containers) or [container()], **spec},
            },
        },
    }


def obj(kind, name, namespace="shop", api_version="v1", **fields) -> dict:
    metadata = {"name": name}
    if namespace is not None:
        metadata["namespace"] = namespace
    metadata.update(fields.pop("metadata", {}))
    return {"apiVersion": api_version, "kind": kind, "metadata": metadata, **fields}


def scan(*objects, options=None, server_version=None, api_groups=frozenset(), checks=None, gaps=None):
    inventory = Inventory.from_objects(
        objects, server_version=server_version, api_groups=frozenset(api_groups), coverage_gaps=gaps or {}
    )
    catalogue = load_catalogue()
    selected = None if checks is None else [catalogue.get(check_id) for check_id in checks]
    return engine.run(inventory, selected, CheckSettings(options=options or {}), now=NOW)


def findings(check_id: str, *objects, **kwargs) -> list:
    results = scan(*objects, checks=[check_id], **kwargs)
    assert not results.errors, results.errors
    return [result for result in results.findings if result.check_id == check_id]


def names(results) -> list[tuple[str, str]]:
    return sorted((result.kind, result.name) for result in results)
