"""A small fixture cluster: what the live collector tests serve from the fake API server."""

import base64

SECRET_VALUE = "super-secret-value-7f3a"  # must never appear in anything Rampart receives or keeps
ENCODED_SECRET_VALUE = base64.b64encode(SECRET_VALUE.encode()).decode()
PAGE_COUNT_PODS = 7


def _meta(name: str, namespace: str | None = "shop", **extra) -> dict:
    metadata = {"name": name, **extra}
    if namespace:
        metadata["namespace"] = namespace
    return metadata


def _owner(kind: str, name: str) -> list[dict]:
    api_version = "apps/v1"
    return [{"apiVersion": api_version, "kind": kind, "name": name, "uid": f"uid-{name}", "controller": True}]


def privileged_web_template() -> dict:
    return {
        "metadata": {"labels": {"app": "web"}},
        "spec": {
            "containers": [
                {
                    "name": "web",
                    "image": "registry.example.com/web:1.4.2",
                    "securityContext": {"privileged": True},
                }
            ]
        },
    }


def fixture_objects() -> list[dict]:
    template = privileged_web_template()
    objects: list[dict] = [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": _meta("shop", None)},
        {"apiVersion": "v1", "kind": "Namespace", "metadata": _meta("kube-system", None)},
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": _meta("web", labels={"app": "web"}),
            "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "web"}}, "template": template},
        },
        {
            "apiVersion": "apps/v1",
            "kind": "ReplicaSet",
            "metadata": _meta("web-5d9c7", ownerReferences=_owner("Deployment", "web")),
            "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "web"}}, "template": template},
        },
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": _meta("web"),
            "spec": {"selector": {"app": "web"}},
        },
        {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": _meta("web")},
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": _meta("web-config"), "data": {"MODE": "prod"}},
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "type": "Opaque",
            "metadata": _meta("web-db"),
            "data": {"password": ENCODED_SECRET_VALUE},
        },
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "type": "kubernetes.io/tls",
            "metadata": _meta("web-tls"),
            "data": {"tls.key": ENCODED_SECRET_VALUE, "tls.crt": ENCODED_SECRET_VALUE},
            "stringData": {"extra": SECRET_VALUE},
        },
        {
            "apiVersion": "networking.k8s.io/v1",
            "kind": "NetworkPolicy",
            "metadata": _meta("default-deny"),
            "spec": {"podSelector": {}, "policyTypes": ["Ingress"]},
        },
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRole",
            "metadata": _meta("everything", None),
            "rules": [{"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]}],
        },
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "RoleBinding",
            "metadata": _meta("web-reader"),
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "view"},
            "subjects": [{"kind": "ServiceAccount", "name": "web", "namespace": "shop"}],
        },
    ]
    for index in range(PAGE_COUNT_PODS):
        objects.append(
            {
                "apiVersion": "v1",
                "kind": "Pod",
                "metadata": _meta(
                    f"web-5d9c7-{index:02d}", ownerReferences=_owner("ReplicaSet", "web-5d9c7")
                ),
                "spec": template["spec"],
            }
        )
    return objects


def count_of(objects: list[dict], kind: str) -> int:
    return sum(1 for obj in objects if obj["kind"] == kind)
