"""RBAC checks: dangerous permissions reported where they are fixed; Kubernetes' own RBAC recognised."""

from tests.scanning.checks.builders import findings, names, obj, scan

RBAC = "rbac.authorization.k8s.io/v1"


def cluster_role(name, *rules, labels=None, **fields) -> dict:
    metadata = {"labels": labels} if labels else {}
    return obj(
        "ClusterRole", name, namespace=None, api_version=RBAC, rules=list(rules), metadata=metadata, **fields
    )


def role(name, *rules, namespace="shop") -> dict:
    return obj("Role", name, namespace=namespace, api_version=RBAC, rules=list(rules))


def rule(resources, verbs, groups=("",), **extra) -> dict:
    return {"apiGroups": list(groups), "resources": list(resources), "verbs": list(verbs), **extra}


def user(name="jane") -> dict:
    return {"kind": "User", "name": name, "apiGroup": "rbac.authorization.k8s.io"}


def group(name) -> dict:
    return {"kind": "Group", "name": name, "apiGroup": "rbac.authorization.k8s.io"}


def service_account(name, namespace="shop") -> dict:
    return {"kind": "ServiceAccount", "name": name, "namespace": namespace}


def cluster_binding(name, role_name, *subjects, labels=None) -> dict:
    metadata = {"labels": labels} if labels else {}
    return obj(
        "ClusterRoleBinding",
        name,
        namespace=None,
        api_version=RBAC,
        metadata=metadata,
        roleRef={"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": role_name},
        subjects=list(subjects or [user()]),
    )


def binding(name, role_name, *subjects, kind="Role", namespace="shop") -> dict:
    return obj(
        "RoleBinding",
        name,
        namespace=namespace,
        api_version=RBAC,
        roleRef={"apiGroup": "rbac.authorization.k8s.io", "kind": kind, "name": role_name},
        subjects=list(subjects or [user()]),
    )


ALL = rule(["*"], ["*"], groups=["*"])


# --- cluster-admin and wildcards ----------------------------------------------------------------


def test_it_flags_a_binding_to_cluster_admin():
    [result] = findings(
        "cluster-admin-binding", cluster_binding("ci", "cluster-admin", service_account("ci"))
    )
    assert result.value == "cluster-admin"
    assert "ServiceAccount shop/ci" in result.message


def test_it_flags_a_binding_to_a_role_that_writes_everything():
    admin_like = cluster_role(
        "ops", rule(["*"], ["get", "list", "create", "update", "patch", "delete"], ["*"])
    )
    assert len(findings("cluster-admin-binding", admin_like, cluster_binding("ops", "ops"))) == 1


def test_it_passes_a_binding_to_a_read_only_role():
    reader = cluster_role("reader", rule(["*"], ["get", "list"], ["*"]))
    assert findings("cluster-admin-binding", reader, cluster_binding("read", "reader")) == []


def test_it_does_not_report_kubernetes_own_admin_bindings():
    bootstrap = cluster_binding(
        "cluster-admin",
        "cluster-admin",
        group("system:masters"),
        labels={"kubernetes.io/bootstrapping": "rbac-defaults"},
    )
    kubeadm = cluster_binding("kubeadm:cluster-admins", "cluster-admin", group("kubeadm:cluster-admins"))
    assert findings("cluster-admin-binding", bootstrap, kubeadm) == []


def test_it_flags_a_role_that_grants_every_resource():
    [result] = findings("rbac-wildcard", cluster_role("ops", rule(["*"], ["get"], ["apps"])))
    assert result.path == "rules[0]"
    assert "not bound to anyone yet" in result.message


def test_it_passes_a_role_with_named_resources_even_with_wildcard_verbs():
    assert findings("rbac-wildcard", cluster_role("deployer", rule(["deployments"], ["*"], ["*"]))) == []


def test_it_reports_a_wildcard_from_a_system_role_on_the_binding_that_grants_it():
    system_role = role("system:test", ALL)
    grant = binding("user-grant", "system:test")
    assert names(findings("rbac-wildcard", system_role, grant)) == [("RoleBinding", "user-grant")]


# --- dangerous capabilities -------------------------------------------------------------------------


def test_it_flags_a_role_that_can_read_secrets():
    reader = role("reader", rule(["secrets"], ["list"]))
    [result] = findings("rbac-secrets-access", reader, binding("reader", "reader"))
    assert (result.kind, result.name) == ("Role", "reader")
    assert "User jane" in result.message


def test_it_passes_secret_access_limited_to_named_secrets():
    named = role("reader", rule(["secrets"], ["get"], resourceNames=["api-token"]))
    assert findings("rbac-secrets-access", named) == []


def test_it_flags_exec_and_attach_with_create_or_get():
    for verbs, resource in ((["create"], "pods/exec"), (["get"], "pods/attach"), (["*"], "*/attach")):
        assert len(findings("rbac-pod-exec", role("debug", rule([resource], verbs)))) == 1, resource


def test_a_subresource_wildcard_matches_only_in_the_form_the_authorizer_knows():
    # `*/exec` is every resource's exec; `pods/*` is not a pattern and grants nothing.
    assert names(findings("rbac-pod-exec", role("any-exec", rule(["*/exec"], ["create"])))) == [
        ("Role", "any-exec")
    ]
    literal = role("literal", rule(["pods/*", "nodes/*"], ["create", "get"]))
    for check in ("rbac-pod-exec", "rbac-portforward", "rbac-nodes-proxy"):
        assert findings(check, literal) == [], check


def test_it_passes_read_only_access_to_pod_logs():
    assert findings("rbac-pod-exec", role("logs", rule(["pods", "pods/log"], ["get", "list"]))) == []


def test_it_flags_creating_pods_or_changing_pod_templates():
    assert len(findings("rbac-create-pods", role("runner", rule(["pods"], ["create"])))) == 1
    assert (
        len(findings("rbac-create-pods", role("deployer", rule(["deployments"], ["patch"], ["apps"])))) == 1
    )


def test_it_passes_pods_in_the_wrong_api_group():
    # "pods" in the RBAC API group is not the core pods resource.
    assert (
        findings("rbac-create-pods", role("odd", rule(["pods"], ["create"], ["rbac.authorization.k8s.io"])))
        == []
    )


def test_it_flags_bind_or_escalate_on_roles():
    assert (
        len(
            findings(
                "rbac-bind-escalate",
                cluster_role("x", rule(["roles"], ["bind"], ["rbac.authorization.k8s.io"])),
            )
        )
        == 1
    )


def test_bind_restricted_to_ordinary_roles_is_delegation_not_escalation():
    rbac = ["rbac.authorization.k8s.io"]
    delegate = role("delegate", rule(["clusterroles"], ["bind"], groups=rbac, resourceNames=["view"]))
    assert findings("rbac-bind-escalate", delegate) == []
    for names_ in (["cluster-admin"], ["view", "system:controller:job-controller"]):
        powerful = role("powerful", rule(["clusterroles"], ["bind"], groups=rbac, resourceNames=names_))
        assert len(findings("rbac-bind-escalate", powerful)) == 1, names_
    rewrite = role("rewrite", rule(["roles"], ["escalate"], groups=rbac, resourceNames=["view"]))
    assert len(findings("rbac-bind-escalate", rewrite)) == 1


def test_it_passes_reading_roles():
    assert (
        findings(
            "rbac-bind-escalate",
            cluster_role("x", rule(["roles"], ["get", "list"], ["rbac.authorization.k8s.io"])),
        )
        == []
    )


def test_it_flags_impersonation():
    assert (
        len(findings("rbac-impersonate", cluster_role("sudo", rule(["users", "groups"], ["impersonate"]))))
        == 1
    )


def test_impersonation_restricted_to_named_accounts_passes_unless_it_names_a_system_identity():
    runner = role("runner", rule(["serviceaccounts"], ["impersonate"], resourceNames=["report-runner"]))
    assert findings("rbac-impersonate", runner) == []
    masters = role("masters", rule(["groups"], ["impersonate"], resourceNames=["system:masters"]))
    assert len(findings("rbac-impersonate", masters)) == 1


def test_it_passes_roles_without_impersonation():
    assert findings("rbac-impersonate", cluster_role("viewer", rule(["users"], ["get"]))) == []


def test_it_flags_port_forwarding():
    assert len(findings("rbac-portforward", role("tunnel", rule(["pods/portforward"], ["create"])))) == 1


def test_it_passes_roles_without_port_forwarding():
    assert findings("rbac-portforward", role("viewer", rule(["pods"], ["get"]))) == []


def test_it_flags_access_to_the_kubelet_through_nodes_proxy():
    assert len(findings("rbac-nodes-proxy", cluster_role("scraper", rule(["nodes/proxy"], ["get"])))) == 1


def test_it_passes_nodes_metrics_access():
    assert (
        findings("rbac-nodes-proxy", cluster_role("scraper", rule(["nodes/metrics", "nodes/stats"], ["get"])))
        == []
    )


def test_a_default_role_is_reported_on_the_binding_that_grants_it():
    # "edit" was not collected: its rules come from Rampart's table of Kubernetes defaults.
    grant = binding("devs-edit", "edit", group("devs"), kind="ClusterRole")
    for check in ("rbac-pod-exec", "rbac-secrets-access", "rbac-impersonate", "rbac-create-pods"):
        assert names(findings(check, grant)) == [("RoleBinding", "devs-edit")], check


def test_a_binding_to_a_custom_role_is_not_reported_twice():
    reader = role("reader", rule(["secrets"], ["get"]))
    assert names(findings("rbac-secrets-access", reader, binding("reader", "reader"))) == [("Role", "reader")]


def test_aggregated_rules_count_for_the_aggregating_role():
    part = cluster_role(
        "exec-part", rule(["pods/exec"], ["create"]), labels={"shop/aggregate-to-ops": "true"}
    )
    ops = cluster_role(
        "ops", aggregationRule={"clusterRoleSelectors": [{"matchLabels": {"shop/aggregate-to-ops": "true"}}]}
    )
    results = findings("rbac-pod-exec", part, ops)
    assert names(results) == [("ClusterRole", "exec-part"), ("ClusterRole", "ops")]
    ops_result = next(r for r in results if r.name == "ops")
    assert ops_result.path.startswith("aggregationRule")


def test_an_empty_aggregation_selector_selects_every_cluster_role():
    everything = cluster_role("everything", aggregationRule={"clusterRoleSelectors": [{}]})
    grant = cluster_binding("everything-to-dev", "everything", user("dev"))
    admin = cluster_role("cluster-admin", ALL, labels={"kubernetes.io/bootstrapping": "rbac-defaults"})
    [result] = findings("cluster-admin-binding", admin, everything, grant)
    assert result.name == "everything-to-dev"


def test_rules_written_on_an_aggregated_role_do_not_count():
    # The aggregation controller replaces them with the union of the selected roles' rules.
    aggregated = cluster_role(
        "ops",
        rule(["secrets"], ["get"]),
        aggregationRule={"clusterRoleSelectors": [{"matchLabels": {"shop/aggregate-to-ops": "true"}}]},
    )
    part = cluster_role("logs", rule(["pods/log"], ["get"]), labels={"shop/aggregate-to-ops": "true"})
    assert findings("rbac-secrets-access", aggregated, part) == []
    assert names(findings("rbac-secrets-access", cluster_role("plain", rule(["secrets"], ["get"])))) == [
        ("ClusterRole", "plain")
    ]


def test_system_roles_and_roles_only_the_platform_binds_are_not_reported():
    system_role = cluster_role("system:controller:job-controller", ALL)
    platform_bound = cluster_role("calico", ALL)
    platform_binding = cluster_binding("gce:podsecuritypolicy:calico", "calico")
    labelled = cluster_role("kube-dns", ALL, labels={"addonmanager.kubernetes.io/mode": "Reconcile"})
    for check in ("rbac-wildcard", "rbac-secrets-access", "rbac-pod-exec"):
        assert findings(check, system_role, platform_bound, platform_binding, labelled) == [], check


# --- whom a binding names ------------------------------------------------------------------------------


def test_it_flags_anonymous_access_even_under_a_system_name():
    grant = cluster_binding("system:sneaky", "view", user("system:anonymous"))
    [result] = findings("rbac-anonymous-access", grant)
    assert result.path == "subjects[0]"


def test_it_flags_a_powerful_role_granted_to_every_authenticated_user():
    assert (
        len(findings("rbac-anonymous-access", cluster_binding("all", "edit", group("system:authenticated"))))
        == 1
    )


def test_a_system_name_does_not_hide_a_grant_to_every_authenticated_user():
    # Anyone who may create bindings chooses the name: only the default roles are recognised.
    admin_for_all = cluster_binding("system:oops", "cluster-admin", group("system:authenticated"))
    assert names(findings("rbac-anonymous-access", admin_for_all)) == [("ClusterRoleBinding", "system:oops")]
    assert names(findings("cluster-admin-binding", admin_for_all)) == [("ClusterRoleBinding", "system:oops")]
    wildcard = cluster_role("everything", ALL)
    hidden = cluster_binding("gce:everything", "everything", group("system:authenticated"))
    assert names(findings("rbac-wildcard", wildcard, hidden)) == [("ClusterRole", "everything")]


def test_it_passes_kubernetes_default_public_grants():
    public = cluster_binding(
        "system:public-info-viewer",
        "system:public-info-viewer",
        group("system:unauthenticated"),
        group("system:authenticated"),
    )
    assert findings("rbac-anonymous-access", public, cluster_binding("read", "view", group("devs"))) == []


def test_it_flags_a_binding_that_names_system_masters():
    assert (
        len(findings("rbac-system-masters", cluster_binding("breakglass", "view", group("system:masters"))))
        == 1
    )


def test_it_flags_an_aws_auth_mapping_to_system_masters():
    aws_auth = obj(
        "ConfigMap",
        "aws-auth",
        namespace="kube-system",
        data={
            "mapRoles": (
                "- rolearn: arn:aws:iam::111122223333:role/ci\n"
                "  username: ci\n  groups:\n    - system:masters\n"
            )
        },
    )
    [result] = findings("rbac-system-masters", aws_auth)
    assert result.value == "arn:aws:iam::111122223333:role/ci"


def test_it_passes_the_bootstrap_binding_and_ordinary_mappings():
    bootstrap = cluster_binding(
        "cluster-admin",
        "cluster-admin",
        group("system:masters"),
        labels={"kubernetes.io/bootstrapping": "rbac-defaults"},
    )
    aws_auth = obj(
        "ConfigMap",
        "aws-auth",
        namespace="kube-system",
        data={"mapRoles": "- rolearn: arn:aws:iam::1:role/dev\n  groups: [devs]\n"},
    )
    assert findings("rbac-system-masters", bootstrap, aws_auth) == []


def test_it_flags_permissions_granted_to_a_default_service_account():
    grant = binding("default-reader", "view", service_account("default"), kind="ClusterRole")
    assert len(findings("rbac-default-sa-bound", grant)) == 1


def test_it_flags_permissions_granted_to_every_service_account():
    assert (
        len(
            findings(
                "rbac-default-sa-bound", cluster_binding("all-sas", "view", group("system:serviceaccounts"))
            )
        )
        == 1
    )


def test_it_passes_permissions_granted_to_a_dedicated_service_account():
    grant = binding("reports", "view", service_account("report-runner"), kind="ClusterRole")
    assert findings("rbac-default-sa-bound", grant) == []


def test_rbac_checks_are_not_assessed_without_bindings():
    results = scan(
        cluster_role("ops", ALL), checks=["rbac-wildcard"], gaps={"ClusterRoleBinding": "forbidden"}
    )
    assert "rbac-wildcard" in results.not_assessed


# --- the other escalation paths ------------------------------------------------------------------


def test_minting_service_account_tokens_is_reported_unless_restricted_to_named_accounts():
    minter = role("minter", rule(["serviceaccounts/token"], ["create"]))
    [result] = findings("rbac-token-request", minter)
    assert "grants tokens for any ServiceAccount" in result.message
    named = role("runner", rule(["serviceaccounts/token"], ["create"], resourceNames=["report-runner"]))
    reader = role("reader", rule(["serviceaccounts"], ["get", "list"]))
    assert findings("rbac-token-request", named, reader) == []
    # The default edit role mints them in its namespace: reported on the binding that grants it.
    grant = binding("devs-edit", "edit", group("devs"), kind="ClusterRole")
    assert names(findings("rbac-token-request", grant)) == [("RoleBinding", "devs-edit")]


def test_writing_admission_webhooks_or_policies_is_reported():
    for resource in ("mutatingwebhookconfigurations", "validatingadmissionpolicies"):
        writer = cluster_role("hooks", rule([resource], ["patch"], groups=["admissionregistration.k8s.io"]))
        assert len(findings("rbac-admission-control", writer)) == 1, resource
    viewer = cluster_role(
        "hooks-view",
        rule(["validatingwebhookconfigurations"], ["get", "list"], groups=["admissionregistration.k8s.io"]),
    )
    assert findings("rbac-admission-control", viewer) == []


def test_approving_certificates_of_kubernetes_signers_is_reported():
    approver = cluster_role("approver", rule(["signers"], ["approve"], groups=["certificates.k8s.io"]))
    client = cluster_role(
        "client-approver",
        rule(
            ["signers"],
            ["approve"],
            groups=["certificates.k8s.io"],
            resourceNames=["kubernetes.io/kube-apiserver-client"],
        ),
    )
    own = cluster_role(
        "own-signer",
        rule(["signers"], ["approve"], groups=["certificates.k8s.io"], resourceNames=["example.com/mesh"]),
    )
    assert names(findings("rbac-csr-approval", approver, client, own)) == [
        ("ClusterRole", "approver"),
        ("ClusterRole", "client-approver"),
    ]
    assert findings("rbac-csr-approval", own) == []  # a signer of its own issues only what it is built to


def test_creating_persistent_volumes_is_reported_but_claims_are_not():
    assert (
        len(
            findings(
                "rbac-persistent-volumes", cluster_role("storage", rule(["persistentvolumes"], ["create"]))
            )
        )
        == 1
    )
    claims = role("claims", rule(["persistentvolumeclaims"], ["create", "delete"]))
    assert findings("rbac-persistent-volumes", claims) == []
