"""No check crashes on an object of the wrong shape, wherever the wrong value sits.

A check that raises is reported as "not assessed" for the whole scan (its open findings stay open),
so one odd object in a cluster (a CRD-generated manifest, a hand-edited snapshot) would blind a
check everywhere. Realistic objects of every kind the catalogue reads are damaged at a random
place, one to three times, with a random JSON value, and the whole catalogue runs over them.
"""

import copy
import os

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from posture.scanning import engine
from posture.scanning.inventory import Inventory
from tests.scanning.checks.builders import NOW

LABELS = {"app": "web"}
POD_SPEC = {
    "serviceAccountName": "web",
    "automountServiceAccountToken": True,
    "hostNetwork": False,
    "securityContext": {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}, "sysctls": []},
    "volumes": [{"name": "data", "hostPath": {"path": "/var/run/docker.sock"}}, {"name": "s", "secret": {}}],
    "containers": [
        {
            "name": "web",
            "image": "registry.example.com/shop/web:1.4@sha256:" + "a" * 64,
            "imagePullPolicy": "Always",
            "ports": [{"containerPort": 8080, "hostPort": 80}],
            "env": [
                {"name": "DB_PASSWORD", "value": "hunter2-hunter2"},
                {"name": "TOKEN", "valueFrom": {"secretKeyRef": {"name": "s", "key": "k"}}},
            ],
            "envFrom": [{"secretRef": {"name": "s"}}],
            "resources": {"limits": {"cpu": "1", "memory": "1Gi"}, "requests": {"cpu": "1"}},
            "livenessProbe": {"httpGet": {"path": "/", "port": 8080, "host": "10.0.0.1"}},
            "securityContext": {
                "privileged": False,
                "allowPrivilegeEscalation": False,
                "readOnlyRootFilesystem": True,
                "capabilities": {"drop": ["ALL"], "add": ["NET_ADMIN"]},
                "procMount": "Default",
                "windowsOptions": {"hostProcess": False},
                "appArmorProfile": {"type": "Unconfined"},
                "seLinuxOptions": {"type": "spc_t"},
            },
            "volumeMounts": [{"name": "data", "mountPath": "/var/run/docker.sock"}],
        }
    ],
    "initContainers": [{"name": "init", "image": "busybox:latest"}],
}


def _object(kind, name="web", namespace="shop", api_version="v1", **fields):
    metadata = {"name": name, "labels": dict(LABELS), "annotations": {"rampart.dev/ignore": "latest-tag"}}
    if namespace:
        metadata["namespace"] = namespace
    return {"apiVersion": api_version, "kind": kind, "metadata": metadata, **fields}


def _workload(kind, api_version="apps/v1", **spec):
    template = {"metadata": {"labels": dict(LABELS)}, "spec": copy.deepcopy(POD_SPEC)}
    return _object(
        kind,
        api_version=api_version,
        spec={"selector": {"matchLabels": LABELS}, "template": template, **spec},
    )


GATEWAY_API = "gateway.networking.k8s.io/v1"
ADD_ON_ANNOTATIONS = {
    "traefik.ingress.kubernetes.io/router.middlewares": "shop-limits@kubernetescrd",
    "konghq.com/plugins": "limits",
    "nginx.ingress.kubernetes.io/enable-modsecurity": "true",
    "nginx.ingress.kubernetes.io/modsecurity-snippet": "SecRuleEngine On",
}
ADD_ONS = (
    _object(
        "GlobalNetworkPolicy",
        name="default-deny",
        namespace=None,
        api_version="crd.projectcalico.org/v1",
        spec={
            "selector": "projectcalico.org/namespace not in {'kube-system'} && (has(app) || all())",
            "namespaceSelector": "team == 'a'",
            "types": ["Ingress", "Egress"],
            "egress": [{"action": "Deny"}],
        },
    ),
    _object(
        "NetworkPolicy",
        name="calico",
        api_version="projectcalico.org/v3",
        spec={"selector": "app == 'web'", "ingress": [{"action": "Allow"}]},
    ),
    _object(
        "Pod",
        name="kube-apiserver-cp-1",
        namespace="kube-system",
        spec={
            "containers": [
                {
                    "name": "kube-apiserver",
                    "image": "registry.k8s.io/kube-apiserver:v1.31.2",
                    "command": ["kube-apiserver", "--authorization-mode=Node,RBAC", "--profiling", "x"],
                    "args": ["--enable-admission-plugins", "NodeRestriction,AlwaysAdmit"],
                },
                {"name": "etcd", "image": "registry.k8s.io/etcd:3.5", "command": ["etcd", "--auto-tls=true"]},
            ]
        },
    ),
    _object(
        "Ingress",
        name="edge",
        api_version="networking.k8s.io/v1",
        metadata={"annotations": ADD_ON_ANNOTATIONS},
        spec={"rules": [{"http": {"paths": [{"backend": {"service": {"name": "web"}}}]}}]},
    ),
    _object(
        "Service",
        name="gke",
        metadata={"annotations": {"cloud.google.com/backend-config": '{"default": "armor"}'}},
        spec={"selector": LABELS, "ports": [{"port": 80}]},
    ),
    _object(
        "Middleware",
        name="limits",
        api_version="traefik.io/v1alpha1",
        spec={"rateLimit": {"average": 10}, "plugin": {"coraza": {}}},
    ),
    _object("KongPlugin", name="limits", api_version="configuration.konghq.com/v1", plugin="rate-limiting"),
    _object(
        "BackendConfig",
        name="armor",
        api_version="cloud.google.com/v1",
        spec={"securityPolicy": {"name": "waf"}},
    ),
    _object(
        "Gateway",
        name="tcp",
        api_version=GATEWAY_API,
        spec={"listeners": [{"name": "pg", "protocol": "TCP", "port": 5432}]},
    ),
    _object(
        "GatewayClass",
        name="eg",
        namespace=None,
        api_version=GATEWAY_API,
        spec={"controllerName": "gateway.envoyproxy.io/gatewayclass-controller"},
    ),
    _object(
        "BackendTrafficPolicy",
        name="limits",
        api_version="gateway.envoyproxy.io/v1alpha1",
        spec={
            "targetRefs": [
                {
                    "group": "gateway.networking.k8s.io",
                    "kind": "Gateway",
                    "name": "web",
                    "sectionName": "http",
                }
            ],
            "targetSelectors": [{"kind": "HTTPRoute", "matchLabels": LABELS}],
            "rateLimit": {
                "type": "Local",
                "local": {"rules": [{"limit": {"requests": 5, "unit": "Second"}}]},
            },
        },
    ),
    _object(
        "TCPRoute",
        name="pg",
        api_version="gateway.networking.k8s.io/v1alpha2",
        spec={"parentRefs": [{"name": "tcp"}], "rules": [{"backendRefs": [{"name": "web", "port": 5432}]}]},
    ),
    _object(
        "CiliumNetworkPolicy",
        api_version="cilium.io/v2",
        spec={"endpointSelector": {"matchLabels": LABELS}, "ingress": [{"fromEntities": ["world"]}]},
    ),
    _object(
        "ConfigMap",
        name="ingress-nginx-controller",
        namespace="ingress-nginx",
        data={"enable-modsecurity": "true", "modsecurity-snippet": "SecRuleEngine On"},
    ),
    _object("ExternalSecret", api_version="external-secrets.io/v1", spec={"target": {"name": "web"}}),
)
SEEDS = (
    _workload("Deployment", replicas=2),
    _workload("DaemonSet"),
    _object("Pod", spec=copy.deepcopy(POD_SPEC), status={"phase": "Running"}),
    _object(
        "CronJob",
        api_version="batch/v1",
        spec={
            "schedule": "* * * * *",
            "jobTemplate": {"spec": {"template": {"spec": copy.deepcopy(POD_SPEC)}}},
        },
    ),
    _object(
        "Service",
        spec={
            "type": "LoadBalancer",
            "selector": LABELS,
            "ports": [{"port": 5432, "name": "pg"}],
            "externalIPs": ["1.2.3.4"],
            "loadBalancerSourceRanges": ["0.0.0.0/0"],
        },
    ),
    _object(
        "Ingress",
        api_version="networking.k8s.io/v1",
        metadata={"annotations": {"nginx.ingress.kubernetes.io/limit-rps": "5"}},
        spec={
            "tls": [{"hosts": ["a.example.com"]}],
            "rules": [
                {"host": "b.example.com", "http": {"paths": [{"backend": {"service": {"name": "web"}}}]}}
            ],
        },
    ),
    _object(
        "Gateway",
        api_version=GATEWAY_API,
        spec={
            "gatewayClassName": "eg",
            "listeners": [
                {
                    "name": "http",
                    "protocol": "HTTP",
                    "port": 80,
                    "hostname": "*.example.com",
                    "allowedRoutes": {
                        "namespaces": {"from": "Selector", "selector": {"matchLabels": {"a": "b"}}},
                        "kinds": [{"kind": "HTTPRoute"}],
                    },
                }
            ],
        },
    ),
    _object(
        "HTTPRoute",
        api_version=GATEWAY_API,
        spec={
            "parentRefs": [{"name": "web", "sectionName": "http"}],
            "hostnames": ["a.example.com"],
            "rules": [{"filters": [{"type": "RequestRedirect", "requestRedirect": {"scheme": "https"}}]}],
        },
    ),
    _object(
        "NetworkPolicy",
        api_version="networking.k8s.io/v1",
        spec={
            "podSelector": {"matchExpressions": [{"key": "app", "operator": "In", "values": ["web"]}]},
            "policyTypes": ["Ingress", "Egress"],
            "ingress": [{"from": [{"ipBlock": {"cidr": "0.0.0.0/0"}}]}],
        },
    ),
    _object(
        "Namespace",
        name="shop",
        namespace=None,
        metadata={"labels": {"pod-security.kubernetes.io/enforce": "privileged"}},
    ),
    _object(
        "ConfigMap", data={"config.ini": "password = hunter2-hunter2\n", "API_KEY": "AKIAABCDEFGHIJKLMNOP"}
    ),
    _object(
        "Secret",
        type="Opaque",
        data={"k": ""},
        metadata={
            "creationTimestamp": "2020-01-01T00:00:00Z",
            "managedFields": [
                {"operation": "Update", "time": "2021-01-01T00:00:00Z", "fieldsV1": {"f:data": {}}}
            ],
        },
    ),
    _object("ServiceAccount", automountServiceAccountToken=False),
    _object("LimitRange", spec={"limits": [{"type": "Container", "default": {"cpu": "1"}}]}),
    _object(
        "Role",
        api_version="rbac.authorization.k8s.io/v1",
        rules=[{"apiGroups": ["*"], "resources": ["secrets", "pods/exec"], "verbs": ["*"]}],
    ),
    _object(
        "ClusterRole",
        namespace=None,
        api_version="rbac.authorization.k8s.io/v1",
        aggregationRule={"clusterRoleSelectors": [{"matchLabels": {"a": "b"}}]},
        rules=[{"apiGroups": [""], "resources": ["nodes/proxy"], "verbs": ["get", "impersonate"]}],
    ),
    _object(
        "RoleBinding",
        api_version="rbac.authorization.k8s.io/v1",
        roleRef={"kind": "Role", "name": "web"},
        subjects=[{"kind": "ServiceAccount", "name": "default", "namespace": "shop"}],
    ),
    _object(
        "ClusterRoleBinding",
        namespace=None,
        api_version="rbac.authorization.k8s.io/v1",
        roleRef={"kind": "ClusterRole", "name": "cluster-admin"},
        subjects=[{"kind": "Group", "name": "system:anonymous"}, {"kind": "User", "name": "x"}],
    ),
)

JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)


# Every reader hands the inventory objects whose kind and apiVersion are strings.
READERS_GUARANTEE = ("kind", "apiVersion")


@st.composite
def damaged(draw, obj):
    """``obj`` with the value at one random place (any depth, keys included) replaced."""
    obj = copy.deepcopy(obj)
    parent, key = None, None
    node = obj
    while isinstance(node, dict | list) and node and draw(st.integers(0, 4)) > 0:
        keys = list(node) if isinstance(node, dict) else list(range(len(node)))
        if node is obj:
            keys = [k for k in keys if k not in READERS_GUARANTEE]
        parent, key = node, draw(st.sampled_from(keys))
        node = node[key]
    if parent is None:
        return obj
    if isinstance(parent, dict) and draw(st.booleans()) and draw(st.booleans()):
        parent[draw(st.text(max_size=8))] = parent.pop(key)  # the key itself is what is odd
    else:
        parent[key] = draw(JSON)
    return obj


@settings(
    max_examples=int(os.environ.get("HOSTILE_EXAMPLES", "300")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(st.data())
def test_no_check_crashes_on_an_object_damaged_anywhere(data):
    objects = list(SEEDS + ADD_ONS)
    for _ in range(data.draw(st.integers(1, 3))):
        index = data.draw(st.integers(0, len(objects) - 1))
        objects[index] = data.draw(damaged(objects[index]))
    results = engine.run(
        Inventory.from_objects(objects, server_version={"major": "1", "minor": "30"}, api_groups=frozenset()),
        now=NOW,
    )
    assert results.errors == []
