"""The resource types the fake API server knows, as discovery reports them."""

from typing import NamedTuple

ALL_VERBS = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"]


class ApiResource(NamedTuple):
    group: str  # "" for the core group
    version: str
    plural: str
    kind: str
    namespaced: bool
    versions: tuple[str, ...] = ()  # every version served, preferred first; () means (version,)

    @property
    def key(self) -> str:
        """How tests name a resource type: "pods", "apps/deployments"."""
        return f"{self.group}/{self.plural}" if self.group else self.plural

    @property
    def served_versions(self) -> tuple[str, ...]:
        return self.versions or (self.version,)


_R = ApiResource

BUILTIN: tuple[ApiResource, ...] = (
    _R("", "v1", "namespaces", "Namespace", False),
    _R("", "v1", "nodes", "Node", False),
    _R("", "v1", "persistentvolumes", "PersistentVolume", False),
    _R("", "v1", "pods", "Pod", True),
    _R("", "v1", "replicationcontrollers", "ReplicationController", True),
    _R("", "v1", "services", "Service", True),
    _R("", "v1", "endpoints", "Endpoints", True),
    _R("", "v1", "configmaps", "ConfigMap", True),
    _R("", "v1", "secrets", "Secret", True),
    _R("", "v1", "serviceaccounts", "ServiceAccount", True),
    _R("", "v1", "persistentvolumeclaims", "PersistentVolumeClaim", True),
    _R("", "v1", "limitranges", "LimitRange", True),
    _R("", "v1", "resourcequotas", "ResourceQuota", True),
    _R("apps", "v1", "deployments", "Deployment", True),
    _R("apps", "v1", "statefulsets", "StatefulSet", True),
    _R("apps", "v1", "daemonsets", "DaemonSet", True),
    _R("apps", "v1", "replicasets", "ReplicaSet", True),
    _R("apps", "v1", "controllerrevisions", "ControllerRevision", True),
    _R("batch", "v1", "jobs", "Job", True),
    _R("batch", "v1", "cronjobs", "CronJob", True),
    _R("networking.k8s.io", "v1", "networkpolicies", "NetworkPolicy", True),
    _R("networking.k8s.io", "v1", "ingresses", "Ingress", True),
    _R("networking.k8s.io", "v1", "ingressclasses", "IngressClass", False),
    _R("rbac.authorization.k8s.io", "v1", "clusterroles", "ClusterRole", False),
    _R("rbac.authorization.k8s.io", "v1", "clusterrolebindings", "ClusterRoleBinding", False),
    _R("rbac.authorization.k8s.io", "v1", "roles", "Role", True),
    _R("rbac.authorization.k8s.io", "v1", "rolebindings", "RoleBinding", True),
    _R("policy", "v1", "poddisruptionbudgets", "PodDisruptionBudget", True),
    _R("storage.k8s.io", "v1", "storageclasses", "StorageClass", False),
    _R(
        "admissionregistration.k8s.io",
        "v1",
        "validatingwebhookconfigurations",
        "ValidatingWebhookConfiguration",
        False,
    ),
    _R(
        "admissionregistration.k8s.io",
        "v1",
        "mutatingwebhookconfigurations",
        "MutatingWebhookConfiguration",
        False,
    ),
)

# Custom resources of the add-ons a cluster may run (secret managers, network policy engines, the
# Gateway API). They are served only when a test (or the demo) installs their group.
CRDS: tuple[ApiResource, ...] = (
    _R("external-secrets.io", "v1", "externalsecrets", "ExternalSecret", True, ("v1", "v1beta1")),
    _R("external-secrets.io", "v1", "secretstores", "SecretStore", True, ("v1", "v1beta1")),
    _R("external-secrets.io", "v1", "clustersecretstores", "ClusterSecretStore", False, ("v1", "v1beta1")),
    _R(
        "external-secrets.io",
        "v1",
        "clusterexternalsecrets",
        "ClusterExternalSecret",
        False,
        ("v1", "v1beta1"),
    ),
    _R("secrets.hashicorp.com", "v1beta1", "vaultstaticsecrets", "VaultStaticSecret", True),
    _R("secrets.hashicorp.com", "v1beta1", "vaultdynamicsecrets", "VaultDynamicSecret", True),
    _R("secrets.hashicorp.com", "v1beta1", "vaultauths", "VaultAuth", True),
    _R("secrets.hashicorp.com", "v1beta1", "vaultconnections", "VaultConnection", True),
    _R("bitnami.com", "v1alpha1", "sealedsecrets", "SealedSecret", True),
    _R("secrets-store.csi.x-k8s.io", "v1", "secretproviderclasses", "SecretProviderClass", True),
    _R("cilium.io", "v2", "ciliumnetworkpolicies", "CiliumNetworkPolicy", True),
    _R("cilium.io", "v2", "ciliumclusterwidenetworkpolicies", "CiliumClusterwideNetworkPolicy", False),
    _R("traefik.io", "v1alpha1", "middlewares", "Middleware", True),
    _R("traefik.containo.us", "v1alpha1", "middlewares", "Middleware", True),
    _R("configuration.konghq.com", "v1", "kongplugins", "KongPlugin", True),
    _R("cloud.google.com", "v1", "backendconfigs", "BackendConfig", True),
    _R("gateway.networking.k8s.io", "v1", "gatewayclasses", "GatewayClass", False, ("v1", "v1beta1")),
    _R("gateway.networking.k8s.io", "v1", "gateways", "Gateway", True, ("v1", "v1beta1")),
    _R("gateway.networking.k8s.io", "v1", "httproutes", "HTTPRoute", True, ("v1", "v1beta1")),
    _R("gateway.networking.k8s.io", "v1", "grpcroutes", "GRPCRoute", True),
    _R("gateway.networking.k8s.io", "v1alpha2", "tcproutes", "TCPRoute", True),
    _R("gateway.envoyproxy.io", "v1alpha1", "backendtrafficpolicies", "BackendTrafficPolicy", True),
    _R("crd.projectcalico.org", "v1", "networkpolicies", "NetworkPolicy", True),
    _R("crd.projectcalico.org", "v1", "globalnetworkpolicies", "GlobalNetworkPolicy", False),
)
CRD_GROUPS = frozenset(resource.group for resource in CRDS)


def plural_of(kind: str) -> str:
    lower = kind.lower()
    if lower.endswith(("s", "x", "ch", "sh")):
        return lower + "es"
    if lower.endswith("y") and lower[-2:-1] not in "aeiou":
        return lower[:-1] + "ies"
    return lower + "s"


def split_api_version(api_version: str) -> tuple[str, str]:
    group, _, version = api_version.rpartition("/")
    return group, version
