"""What Rampart reads from a cluster: one table, which the deploy ClusterRole must match.

Each entry is (group, version, plural, kind, namespaced). Rampart only ever
*lists* these, cluster-wide; Secrets are listed as metadata only.
"""

from typing import NamedTuple

from posture.scanning.inventory import qualified_kind


class ResourceType(NamedTuple):
    group: str  # "" for the core group
    version: str
    plural: str
    kind: str
    namespaced: bool

    @property
    def inventory_kind(self) -> str:
        """The kind its objects and coverage gaps are filed under: Calico's NetworkPolicy is not
        Kubernetes' (posture/scanning/inventory.py)."""
        return qualified_kind(self.kind, self.group)

    @property
    def group_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    def path(self, version: str | None = None) -> str:
        version = version or self.version
        return (
            f"/apis/{self.group}/{version}/{self.plural}" if self.group else f"/api/{version}/{self.plural}"
        )


_T = ResourceType
# Everything Rampart reads; the deploy ClusterRole must grant list on each.
RESOURCE_TYPES: tuple[ResourceType, ...] = (
    _T("", "v1", "namespaces", "Namespace", False),
    _T("", "v1", "pods", "Pod", True),
    _T("", "v1", "replicationcontrollers", "ReplicationController", True),
    _T("", "v1", "services", "Service", True),
    _T("", "v1", "configmaps", "ConfigMap", True),
    _T("", "v1", "secrets", "Secret", True),  # metadata only
    _T("", "v1", "serviceaccounts", "ServiceAccount", True),
    _T("", "v1", "nodes", "Node", False),
    _T("", "v1", "limitranges", "LimitRange", True),  # namespace defaults count as limits and requests
    _T("apps", "v1", "deployments", "Deployment", True),
    _T("apps", "v1", "statefulsets", "StatefulSet", True),
    _T("apps", "v1", "daemonsets", "DaemonSet", True),
    _T("apps", "v1", "replicasets", "ReplicaSet", True),
    _T("batch", "v1", "jobs", "Job", True),
    _T("batch", "v1", "cronjobs", "CronJob", True),
    _T("networking.k8s.io", "v1", "networkpolicies", "NetworkPolicy", True),
    _T("networking.k8s.io", "v1", "ingresses", "Ingress", True),
    _T("rbac.authorization.k8s.io", "v1", "clusterroles", "ClusterRole", False),
    _T("rbac.authorization.k8s.io", "v1", "clusterrolebindings", "ClusterRoleBinding", False),
    _T("rbac.authorization.k8s.io", "v1", "roles", "Role", True),
    _T("rbac.authorization.k8s.io", "v1", "rolebindings", "RoleBinding", True),
    # Secret managers' custom resources: read when the cluster serves their group.
    _T("external-secrets.io", "v1", "externalsecrets", "ExternalSecret", True),
    _T("external-secrets.io", "v1", "clusterexternalsecrets", "ClusterExternalSecret", False),
    _T("external-secrets.io", "v1", "secretstores", "SecretStore", True),
    _T("external-secrets.io", "v1", "clustersecretstores", "ClusterSecretStore", False),
    _T("secrets.hashicorp.com", "v1beta1", "vaultstaticsecrets", "VaultStaticSecret", True),
    _T("secrets.hashicorp.com", "v1beta1", "vaultdynamicsecrets", "VaultDynamicSecret", True),
    _T("secrets.hashicorp.com", "v1beta1", "vaultauths", "VaultAuth", True),
    _T("bitnami.com", "v1alpha1", "sealedsecrets", "SealedSecret", True),
    _T("secrets-store.csi.x-k8s.io", "v1", "secretproviderclasses", "SecretProviderClass", True),
    # Add-ons whose objects the checks also understand: read when installed.
    _T("cilium.io", "v2", "ciliumnetworkpolicies", "CiliumNetworkPolicy", True),
    _T("cilium.io", "v2", "ciliumclusterwidenetworkpolicies", "CiliumClusterwideNetworkPolicy", False),
    _T("traefik.io", "v1alpha1", "middlewares", "Middleware", True),
    _T("traefik.containo.us", "v1alpha1", "middlewares", "Middleware", True),  # Traefik before 2.10
    _T("configuration.konghq.com", "v1", "kongplugins", "KongPlugin", True),
    _T("cloud.google.com", "v1", "backendconfigs", "BackendConfig", True),
    # The Gateway API, Ingress's successor: its entry points, the routes attached to them, and
    # the classes that say which implementation serves each Gateway.
    _T("gateway.networking.k8s.io", "v1", "gatewayclasses", "GatewayClass", False),
    _T("gateway.networking.k8s.io", "v1", "gateways", "Gateway", True),
    _T("gateway.networking.k8s.io", "v1", "httproutes", "HTTPRoute", True),
    _T("gateway.networking.k8s.io", "v1", "grpcroutes", "GRPCRoute", True),
    _T("gateway.networking.k8s.io", "v1alpha2", "tcproutes", "TCPRoute", True),  # the experimental channel
    # Envoy Gateway's rate limits.
    _T("gateway.envoyproxy.io", "v1alpha1", "backendtrafficpolicies", "BackendTrafficPolicy", True),
    # Calico's own policies, as its CRDs store them (the projectcalico.org API is an extra server).
    _T("crd.projectcalico.org", "v1", "networkpolicies", "NetworkPolicy", True),
    _T("crd.projectcalico.org", "v1", "globalnetworkpolicies", "GlobalNetworkPolicy", False),
)
METADATA_ONLY = frozenset({("", "secrets")})
SECRET_MANAGER_GROUPS: dict[str, str] = {
    "external-secrets.io": "External Secrets Operator",
    "secrets.hashicorp.com": "Vault Secrets Operator",
    "bitnami.com": "Sealed Secrets",
    "secrets-store.csi.x-k8s.io": "Secrets Store CSI Driver",
}
# Groups of add-ons a cluster may simply not have: absent means "not installed", not a coverage gap.
OPTIONAL_GROUPS: frozenset[str] = frozenset(
    {*SECRET_MANAGER_GROUPS, "cilium.io", "traefik.io", "traefik.containo.us", "configuration.konghq.com",
     "cloud.google.com", "gateway.networking.k8s.io", "gateway.envoyproxy.io", "crd.projectcalico.org"}
)  # fmt: skip


def required_rbac_rules(resource_types=RESOURCE_TYPES) -> list[dict]:
    """The ClusterRole rules that let Rampart read everything it reads (list only, never get or watch)."""
    by_group: dict[str, list[str]] = {}
    for rtype in resource_types:
        plurals = by_group.setdefault(rtype.group, [])
        if rtype.plural not in plurals:
            plurals.append(rtype.plural)
    return [
        {"apiGroups": [group], "resources": plurals, "verbs": ["list"]} for group, plurals in by_group.items()
    ]
