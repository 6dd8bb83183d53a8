"""The table of what Rampart reads matches the Kubernetes API, and yields the ClusterRole it needs."""

from posture.scanning.collectors.live import RESOURCE_TYPES, SECRET_MANAGER_GROUPS, required_rbac_rules
from tests.fakekube.catalogue import BUILTIN, CRDS


def test_every_resource_type_rampart_reads_exists_with_that_scope_and_kind():
    known = {(r.group, r.plural): r for r in (*BUILTIN, *CRDS)}

    for rtype in RESOURCE_TYPES:
        served = known[(rtype.group, rtype.plural)]
        assert (served.kind, served.namespaced) == (rtype.kind, rtype.namespaced), rtype
        assert rtype.version in served.served_versions, rtype
    assert len({(r.group, r.plural) for r in RESOURCE_TYPES}) == len(RESOURCE_TYPES)


def test_it_reads_the_kinds_the_checks_are_written_for():
    kinds = {rtype.kind for rtype in RESOURCE_TYPES}

    assert {
        "Namespace",
        "Pod",
        "ReplicationController",
        "Service",
        "ConfigMap",
        "Secret",
        "ServiceAccount",
        "Node",
        "Deployment",
        "StatefulSet",
        "DaemonSet",
        "ReplicaSet",
        "Job",
        "CronJob",
        "NetworkPolicy",
        "Ingress",
        "ClusterRole",
        "ClusterRoleBinding",
        "Role",
        "RoleBinding",
        "ExternalSecret",
        "SecretStore",
        "ClusterSecretStore",
        "SealedSecret",
        "SecretProviderClass",
    } <= kinds
    assert {rtype.group for rtype in RESOURCE_TYPES} >= set(SECRET_MANAGER_GROUPS)


def test_the_cluster_role_it_needs_only_lists():
    rules = required_rbac_rules()

    assert {verb for rule in rules for verb in rule["verbs"]} == {"list"}
    assert rules[0] == {
        "apiGroups": [""],
        "resources": [
            "namespaces",
            "pods",
            "replicationcontrollers",
            "services",
            "configmaps",
            "secrets",
            "serviceaccounts",
            "nodes",
            "limitranges",
        ],
        "verbs": ["list"],
    }
    assert {"apiGroups": ["bitnami.com"], "resources": ["sealedsecrets"], "verbs": ["list"]} in rules
