"""The inventory's indexes: label selectors, owners, Service selection and the RBAC graph."""

import pytest

from posture.scanning.inventory import Inventory, RoleRef, Selector, SelectorIndex, Subject


def _obj(kind, name, namespace="shop", **fields):
    metadata = {"name": name, **fields.pop("metadata", {})}
    if namespace is not None:
        metadata["namespace"] = namespace
    return {"apiVersion": "v1", "kind": kind, "metadata": metadata, **fields}


def _pod_template(kind, name, labels, namespace="shop", owner=None):
    spec = {"containers": [{"name": "app", "image": "app:1"}]}
    metadata = (
        {"ownerReferences": [{"kind": owner[0], "name": owner[1], "controller": True}]} if owner else {}
    )
    if kind == "Pod":
        return _obj("Pod", name, namespace, metadata={**metadata, "labels": labels}, spec=spec)
    return _obj(
        kind,
        name,
        namespace,
        metadata=metadata,
        spec={"template": {"metadata": {"labels": labels}, "spec": spec}},
    )


# --- selectors ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("selector", "labels", "expected"),
    [
        ({}, {"app": "web"}, True),
        (None, {}, True),
        ({"matchLabels": {"app": "web"}}, {"app": "web", "tier": "front"}, True),
        ({"matchLabels": {"app": "web"}}, {"app": "api"}, False),
        (
            {"matchExpressions": [{"key": "tier", "operator": "In", "values": ["front", "edge"]}]},
            {"tier": "edge"},
            True,
        ),
        ({"matchExpressions": [{"key": "tier", "operator": "In", "values": ["front"]}]}, {}, False),
        ({"matchExpressions": [{"key": "tier", "operator": "NotIn", "values": ["db"]}]}, {}, True),
        (
            {"matchExpressions": [{"key": "tier", "operator": "NotIn", "values": ["db"]}]},
            {"tier": "db"},
            False,
        ),
        ({"matchExpressions": [{"key": "canary", "operator": "Exists"}]}, {"canary": ""}, True),
        ({"matchExpressions": [{"key": "canary", "operator": "Exists"}]}, {"app": "web"}, False),
        ({"matchExpressions": [{"key": "canary", "operator": "DoesNotExist"}]}, {"app": "web"}, True),
        ({"matchExpressions": [{"key": "canary", "operator": "DoesNotExist"}]}, {"canary": "1"}, False),
        ({"matchLabels": {"version": "2"}}, {"version": 2}, True),
    ],
)
def test_a_selector_matches_labels_as_the_api_server_would(selector, labels, expected):
    assert Selector.parse(selector).matches(labels) is expected


def test_a_selector_the_api_server_would_reject_selects_nothing():
    assert Selector.parse({"app": "web"}) is None
    assert Selector.parse({"matchExpressions": [{"key": "a", "operator": "Near"}]}) is None


def test_the_selector_index_finds_matching_selectors_without_trying_others():
    index = SelectorIndex()
    index.add("shop", Selector.parse({"matchLabels": {"app": "web"}}), "web-policy")
    index.add("shop", Selector.parse({}), "deny-all")
    index.add("shop", Selector.parse({"matchExpressions": [{"key": "app", "operator": "Exists"}]}), "any-app")
    index.add("other", Selector.parse({}), "other-deny")
    index.add(None, Selector.parse({"matchLabels": {"app": "web"}}), "clusterwide")
    assert sorted(index.matching("shop", {"app": "web"})) == [
        "any-app",
        "clusterwide",
        "deny-all",
        "web-policy",
    ]
    assert sorted(index.matching("shop", {"app": "api"})) == ["any-app", "deny-all"]
    assert index.matching("third", {"app": "api"}) == []


def test_network_policies_and_cilium_policies_are_indexed_by_namespace():
    objects = [
        _pod_template("Deployment", "web", {"app": "web"}),
        _obj("NetworkPolicy", "web", spec={"podSelector": {"matchLabels": {"app": "web"}}}),
        _obj("NetworkPolicy", "elsewhere", namespace="other", spec={"podSelector": {}}),
        _obj(
            "CiliumNetworkPolicy", "split", specs=[{"endpointSelector": {"matchLabels": {"k8s:app": "web"}}}]
        ),
    ]
    inventory = Inventory.from_objects(objects)
    [workload] = inventory.workloads
    assert sorted(policy.name for policy, _spec in inventory.policies_selecting(workload)) == ["split", "web"]


# --- owners ------------------------------------------------------------------------------------------


def test_pods_are_evaluated_through_their_top_most_collected_owner():
    inventory = Inventory.from_objects(
        [
            _pod_template("Deployment", "web", {"app": "web"}),
            _pod_template("ReplicaSet", "web-5f7", {"app": "web"}, owner=("Deployment", "web")),
            _pod_template("Pod", "web-5f7-x", {"app": "web"}, owner=("ReplicaSet", "web-5f7")),
            _pod_template("CronJob", "nightly", {"job": "nightly"}),
            _pod_template("Job", "nightly-1", {"job": "nightly"}, owner=("CronJob", "nightly")),
            _pod_template("Pod", "orphan", {"app": "x"}, owner=("ReplicaSet", "not-collected")),
        ]
    )
    assert sorted((w.kind, w.name) for w in inventory.workloads) == [
        ("CronJob", "nightly"),
        ("Deployment", "web"),
        ("Pod", "orphan"),
    ]


def test_an_owner_in_another_namespace_does_not_own_the_pod():
    inventory = Inventory.from_objects(
        [
            _pod_template("ReplicaSet", "web", {"app": "web"}, namespace="other"),
            _pod_template("Pod", "web-x", {"app": "web"}, owner=("ReplicaSet", "web")),
        ]
    )
    assert sorted(w.name for w in inventory.workloads) == ["web", "web-x"]


# --- Services and namespaces ---------------------------------------------------------------------------


def test_a_service_selector_resolves_to_the_workloads_it_picks():
    inventory = Inventory.from_objects(
        [
            _pod_template("Deployment", "web", {"app": "web", "tier": "front"}),
            _pod_template("Deployment", "web-canary", {"app": "web", "tier": "canary"}),
            _pod_template("Deployment", "web", {"app": "web", "tier": "front"}, namespace="other"),
        ]
    )
    assert [w.name for w in inventory.workloads_selected_by("shop", {"app": "web", "tier": "front"})] == [
        "web"
    ]
    assert len(inventory.workloads_selected_by("shop", {"app": "web"})) == 2
    assert inventory.workloads_selected_by("shop", {}) == []


def test_cluster_scoped_objects_lose_a_namespace_given_by_mistake():
    inventory = Inventory.from_objects([_obj("ClusterRole", "view", namespace="default")])
    assert inventory.of_kind("ClusterRole")[0].namespace == ""


def test_objects_are_found_by_namespace_and_kind():
    inventory = Inventory.from_objects(
        [
            _obj("LimitRange", "a"),
            _obj("LimitRange", "b", namespace="other"),
            _obj("Namespace", "shop", namespace=None),
        ]
    )
    assert [r.name for r in inventory.in_namespace("LimitRange", "shop")] == ["a"]
    assert list(inventory.namespaces) == ["shop"]


# --- the RBAC graph ---------------------------------------------------------------------------------------


def _role(kind, name, rules=(), namespace=None, labels=None, **fields):
    metadata = {"labels": labels} if labels else {}
    return _obj(kind, name, namespace, metadata=metadata, rules=list(rules), **fields)


def _binding(kind, name, ref_kind, ref_name, subjects, namespace=None):
    return _obj(kind, name, namespace, roleRef={"kind": ref_kind, "name": ref_name}, subjects=subjects)


def test_bindings_link_roles_and_subjects():
    inventory = Inventory.from_objects(
        [
            _role("Role", "reader", namespace="shop"),
            _binding(
                "RoleBinding",
                "readers",
                "Role",
                "reader",
                [{"kind": "ServiceAccount", "name": "web"}, {"kind": "Group", "name": "devs"}],
                namespace="shop",
            ),
            _binding("ClusterRoleBinding", "bad", "Role", "reader", [{"kind": "User", "name": "jane"}]),
        ]
    )
    graph = inventory.rbac
    [role] = inventory.of_kind("Role")
    [readers] = graph.bindings_of(role)
    assert readers.name == "readers"
    assert graph.role_ref(readers) == RoleRef("Role", "shop", "reader")
    # A ServiceAccount subject without a namespace takes the RoleBinding's.
    assert graph.subjects(readers) == [Subject("ServiceAccount", "web", "shop"), Subject("Group", "devs")]
    # A ClusterRoleBinding cannot reference a Role.
    assert graph.role_ref(inventory.of_kind("ClusterRoleBinding")[0]) is None


def test_an_aggregated_cluster_role_grants_the_rules_of_the_roles_it_selects():
    inventory = Inventory.from_objects(
        [
            _role(
                "ClusterRole",
                "monitoring",
                aggregationRule={
                    "clusterRoleSelectors": [
                        {"matchLabels": {"rbac.example.com/aggregate-to-monitoring": "true"}}
                    ]
                },
            ),
            _role(
                "ClusterRole",
                "metrics",
                [{"apiGroups": [""], "resources": ["nodes/metrics"], "verbs": ["get"]}],
                labels={"rbac.example.com/aggregate-to-monitoring": "true"},
            ),
            _role(
                "ClusterRole",
                "logs",
                aggregationRule={
                    "clusterRoleSelectors": [{"matchExpressions": [{"key": "logs", "operator": "Exists"}]}]
                },
                labels={"rbac.example.com/aggregate-to-monitoring": "true"},
            ),
            _role(
                "ClusterRole",
                "pod-logs",
                [{"apiGroups": [""], "resources": ["pods/log"], "verbs": ["get"]}],
                labels={"logs": "yes"},
            ),
            _role("ClusterRole", "unrelated", [{"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]}]),
        ]
    )
    monitoring = inventory.get("ClusterRole", "", "monitoring")
    granted = {
        (source.name, rule["resources"][0]) for source, _i, rule in inventory.rbac.effective_rules(monitoring)
    }
    # Transitively: monitoring <- logs <- pod-logs.
    assert granted == {("metrics", "nodes/metrics"), ("pod-logs", "pods/log")}


def test_aggregation_cycles_terminate():
    inventory = Inventory.from_objects(
        [
            _role(
                "ClusterRole",
                "a",
                aggregationRule={"clusterRoleSelectors": [{"matchLabels": {"b": "1"}}]},
                labels={"a": "1"},
            ),
            _role(
                "ClusterRole",
                "b",
                aggregationRule={
                    "clusterRoleSelectors": [{"matchLabels": {"a": "1"}}, {"matchLabels": {"c": "1"}}]
                },
                labels={"b": "1"},
            ),
            _role(
                "ClusterRole",
                "c",
                [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get"]}],
                labels={"c": "1"},
            ),
        ]
    )
    for name in ("a", "b"):
        rules = inventory.rbac.effective_rules(inventory.get("ClusterRole", "", name))
        assert [(source.name, i) for source, i, _rule in rules] == [("c", 0)]


def test_other_projects_objects_of_a_shared_kind_are_not_mistaken_for_kubernetes_ones():
    calico = {
        **_obj(
            "NetworkPolicy", "allow-db", spec={"selector": "role == 'db'", "ingress": [{"action": "Allow"}]}
        ),
        "apiVersion": "projectcalico.org/v3",
    }
    antrea = {
        **_obj("NetworkPolicy", "tiered", spec={"tier": "securityops"}),
        "apiVersion": "crd.antrea.io/v1beta1",
    }
    istio = {**_obj("Gateway", "ingress", spec={"servers": []}), "apiVersion": "networking.istio.io/v1"}
    knative = {**_obj("Service", "hello", spec={"template": {}}), "apiVersion": "serving.knative.dev/v1"}
    kubernetes = {
        **_obj("NetworkPolicy", "default-deny", spec={"podSelector": {}}),
        "apiVersion": "networking.k8s.io/v1",
    }
    inventory = Inventory.from_objects([calico, antrea, istio, knative, kubernetes, _obj("Service", "web")])

    assert [p.name for p in inventory.of_kind("NetworkPolicy")] == ["default-deny"]
    assert inventory.of_kind("Gateway") == []
    assert [s.name for s in inventory.of_kind("Service")] == ["web"]
    assert inventory.counts_by_kind() == {
        "Gateway.networking.istio.io": 1,
        "NetworkPolicy": 1,
        "NetworkPolicy.crd.antrea.io": 1,
        "NetworkPolicy.projectcalico.org": 1,
        "Service": 1,
        "Service.serving.knative.dev": 1,
    }
