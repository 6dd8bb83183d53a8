"""A generated, realistic-looking cluster for the demo and the benchmarks.

``generate_cluster(workloads, day)`` is deterministic: the same arguments give
the same objects. As ``day`` grows, the team behind the cluster hardens more
workloads and occasionally ships a regression, so that thirty days of scans
show a trend with new, resolved and reopened findings.
"""

import hashlib
import random

NAMESPACES = ["payments", "checkout", "catalog", "identity", "search", "data", "monitoring", "ingress"]
APPS = [
    "api",
    "web",
    "worker",
    "gateway",
    "cart",
    "orders",
    "billing",
    "ledger",
    "auth",
    "profile",
    "inventory",
    "pricing",
    "recommend",
    "notify",
    "mailer",
    "export",
    "reports",
    "scheduler",
    "cache",
    "indexer",
]
DATABASES = [
    ("postgres", "postgres:16.4", 5432),
    ("redis", "redis:7.2", 6379),
    ("mysql", "mysql:8.4", 3306),
    ("mongodb", "mongo:7.0", 27017),
    ("elasticsearch", "elasticsearch:8.15.0", 9200),
]
REGISTRY = "registry.example.com/shop"


def _chance(*key, below: float) -> bool:
    """A stable pseudo-random draw in [0, 1) per key, compared with ``below``."""
    digest = hashlib.blake2b("/".join(map(str, key)).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64 < below


def _hardened(index: int, aspect: str, day: int) -> bool:
    # Half the fleet starts hardened; the rest is fixed steadily over 30 days.
    threshold = min(0.5 + day * 0.012, 0.9)
    fixed = _chance(index, aspect, below=threshold)
    regressed = _chance(index, aspect, "regression", day // 7, below=0.04)  # a bad week now and then
    return fixed and not regressed


def _container(index: int, name: str, image: str, port: int, day: int) -> dict:
    security: dict = {}
    if _hardened(index, "nonroot", day):
        security["runAsNonRoot"] = True
        security["runAsUser"] = 10001
    if _hardened(index, "readonly", day):
        security["readOnlyRootFilesystem"] = True
    if _hardened(index, "escalation", day):
        security["allowPrivilegeEscalation"] = False
    if _hardened(index, "caps", day):
        security["capabilities"] = {"drop": ["ALL"]}
    if _chance(index, "privileged", below=0.03):
        security["privileged"] = True
    container = {
        "name": name,
        "image": image if _hardened(index, "tag", day) else image.rsplit(":", 1)[0] + ":latest",
        "ports": [{"containerPort": port, "name": "http"}],
        "env": [{"name": "LOG_LEVEL", "value": "info"}],
    }
    if security:
        container["securityContext"] = security
    if _hardened(index, "resources", day):
        container["resources"] = {
            "requests": {"cpu": "100m", "memory": "128Mi"},
            "limits": {"cpu": "500m", "memory": "256Mi"},
        }
    if _hardened(index, "probes", day):
        container["livenessProbe"] = {"httpGet": {"path": "/healthz", "port": port}}
        container["readinessProbe"] = {"httpGet": {"path": "/readyz", "port": port}}
    if not _hardened(index, "secret-env", day) and _chance(index, "has-secret-env", below=0.3):
        # A literal credential in a manifest: what the secrets checks exist for.
        container["env"].append({"name": "DB_PASSWORD", "value": f"s3cret-{index:04d}"})
    return container


def _workload(index: int, namespace: str, day: int) -> list[dict]:
    app = f"{APPS[index % len(APPS)]}-{index // len(APPS)}" if index >= len(APPS) else APPS[index % len(APPS)]
    labels = {"app.kubernetes.io/name": app, "app.kubernetes.io/part-of": namespace}
    kind = "StatefulSet" if index % 9 == 4 else ("DaemonSet" if index % 23 == 7 else "Deployment")
    port = 8080
    image = f"{REGISTRY}/{app}:1.{index % 17}.{day % 5}"
    database = None
    if index % 11 == 3:
        database = DATABASES[index % len(DATABASES)]
        image, port = database[1], database[2]
    pod_spec: dict = {
        "serviceAccountName": app if _hardened(index, "sa", day) else "default",
        "containers": [_container(index, app, image, port, day)],
    }
    if _hardened(index, "seccomp", day):
        pod_spec["securityContext"] = {"seccompProfile": {"type": "RuntimeDefault"}}
    if _hardened(index, "automount", day):
        pod_spec["automountServiceAccountToken"] = False
    if kind == "DaemonSet" and _chance(index, "hostnet", below=0.5):
        pod_spec["hostNetwork"] = True
        pod_spec["volumes"] = [{"name": "host", "hostPath": {"path": "/var/log"}}]
    spec: dict = {
        "selector": {"matchLabels": labels},
        "template": {"metadata": {"labels": labels}, "spec": pod_spec},
    }
    if kind != "DaemonSet":
        spec["replicas"] = 1 + index % 3
    objects = [
        {
            "apiVersion": "apps/v1",
            "kind": kind,
            "metadata": {"name": app, "namespace": namespace, "labels": labels},
            "spec": spec,
        },
        {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": app, "namespace": namespace}},
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": f"{app}-config", "namespace": namespace},
            "data": {"LOG_FORMAT": "json", "FEATURE_FLAGS": "checkout-v2"},
        },
    ]
    exposed = database is not None and not _hardened(index, "db-exposure", day)
    service_type = "LoadBalancer" if exposed or index % 13 == 5 else "ClusterIP"
    objects.append(
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": app, "namespace": namespace},
            "spec": {"type": service_type, "selector": labels, "ports": [{"port": port, "targetPort": port}]},
        }
    )
    # Secrets are collected as metadata only; their age drives the rotation check.
    objects.append(
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "type": "Opaque",
            "metadata": {
                "name": f"{app}-credentials",
                "namespace": namespace,
                "creationTimestamp": f"2026-0{1 + index % 9}-1{index % 10}T08:00:00Z",
            },
        }
    )
    return objects


def _namespace_objects(namespace: str, index: int, day: int) -> list[dict]:
    labels = {"kubernetes.io/metadata.name": namespace}
    if _hardened(index, "pss", day):
        labels["pod-security.kubernetes.io/enforce"] = "restricted" if index % 2 else "baseline"
    objects = [{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace, "labels": labels}}]
    if _hardened(index, "default-deny", day):
        objects.append(
            {
                "apiVersion": "networking.k8s.io/v1",
                "kind": "NetworkPolicy",
                "metadata": {"name": "default-deny", "namespace": namespace},
                "spec": {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]},
            }
        )
    objects.append(
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "Role",
            "metadata": {"name": f"{namespace}-deployer", "namespace": namespace},
            "rules": [
                {"apiGroups": ["apps"], "resources": ["deployments"], "verbs": ["get", "list", "patch"]},
                *(
                    [{"apiGroups": [""], "resources": ["secrets"], "verbs": ["get", "list"]}]
                    if not _hardened(index, "rbac-secrets", day)
                    else []
                ),
            ],
        }
    )
    objects.append(
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "RoleBinding",
            "metadata": {"name": f"{namespace}-deployer", "namespace": namespace},
            "roleRef": {
                "apiGroup": "rbac.authorization.k8s.io",
                "kind": "Role",
                "name": f"{namespace}-deployer",
            },
            "subjects": [
                {"kind": "Group", "name": f"team-{namespace}", "apiGroup": "rbac.authorization.k8s.io"}
            ],
        }
    )
    return objects


def _cluster_objects(day: int) -> list[dict]:
    objects = [
        {
            "apiVersion": "networking.k8s.io/v1",
            "kind": "Ingress",
            "metadata": {
                "name": "storefront",
                "namespace": "ingress",
                "annotations": {"nginx.ingress.kubernetes.io/limit-rps": "20"} if day > 10 else {},
            },
            "spec": {
                "ingressClassName": "nginx",
                **({"tls": [{"hosts": ["shop.example.com"], "secretName": "shop-tls"}]} if day > 5 else {}),
                "rules": [
                    {
                        "host": "shop.example.com",
                        "http": {
                            "paths": [
                                {
                                    "path": "/",
                                    "pathType": "Prefix",
                                    "backend": {"service": {"name": "web", "port": {"number": 8080}}},
                                }
                            ]
                        },
                    }
                ],
            },
        },
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRoleBinding",
            "metadata": {"name": "ci-deployer-admin"},
            "roleRef": {
                "apiGroup": "rbac.authorization.k8s.io",
                "kind": "ClusterRole",
                "name": "cluster-admin",
            },
            "subjects": [{"kind": "ServiceAccount", "name": "ci-deployer", "namespace": "identity"}],
        },
    ]
    if day < 20:
        objects.append(
            {
                "apiVersion": "rbac.authorization.k8s.io/v1",
                "kind": "ClusterRole",
                "metadata": {"name": "legacy-operator"},
                "rules": [{"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]}],
            }
        )
    return objects


def generate_cluster(workloads: int = 40, day: int = 29, seed: int = 0) -> list[dict]:
    """Objects of one cluster (about five per workload), as the API would list them."""
    rng = random.Random(seed)  # noqa: S311 - demo data, not security
    # About fifty workloads a namespace, as in a real multi-team cluster.
    count = max(len(NAMESPACES), workloads // 50)
    namespaces = [
        NAMESPACES[i % len(NAMESPACES)] + (f"-{i // len(NAMESPACES)}" if i >= len(NAMESPACES) else "")
        for i in range(count)
    ]
    objects: list[dict] = []
    for index, namespace in enumerate(namespaces):
        objects.extend(_namespace_objects(namespace, index, day))
    for index in range(workloads):
        namespace = namespaces[(index + rng.randrange(2)) % len(namespaces)]
        objects.extend(_workload(index, namespace, day))
    objects.extend(_cluster_objects(day))
    return objects


def as_list_document(objects: list[dict]) -> dict:
    """The shape ``kubectl get -o json`` writes."""
    return {"apiVersion": "v1", "kind": "List", "metadata": {"resourceVersion": ""}, "items": objects}
