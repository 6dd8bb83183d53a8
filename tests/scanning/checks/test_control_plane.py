"""Control-plane checks: the flags of kubeadm-style static pods, as their mirror Pods show them."""

from posture.scanning.checks.control_plane import parse_flags
from tests.scanning.checks.builders import container, findings, pod, scan

# What kubeadm writes (1.31), less the paths that do not matter here.
KUBEADM_API_SERVER = [
    "kube-apiserver",
    "--advertise-address=10.0.0.10",
    "--allow-privileged=true",
    "--authorization-mode=Node,RBAC",
    "--client-ca-file=/etc/kubernetes/pki/ca.crt",
    "--enable-admission-plugins=NodeRestriction",
    "--etcd-servers=https://127.0.0.1:2379",
    "--secure-port=6443",
]
HARDENED_API_SERVER = [
    *KUBEADM_API_SERVER,
    "--profiling=false",
    "--kubelet-certificate-authority=/etc/kubernetes/pki/ca.crt",
    "--audit-policy-file=/etc/kubernetes/audit/policy.yaml",
    "--audit-log-path=/var/log/kubernetes/audit.log",
    "--encryption-provider-config=/etc/kubernetes/enc/encryption.yaml",
]
KUBEADM_ETCD = [
    "etcd",
    "--client-cert-auth=true",
    "--peer-client-cert-auth=true",
    "--cert-file=/pki/etcd.crt",
]
KUBEADM_CONTROLLER_MANAGER = [
    "kube-controller-manager",
    "--bind-address=127.0.0.1",
    "--use-service-account-credentials=true",
]
KUBEADM_SCHEDULER = ["kube-scheduler", "--bind-address=127.0.0.1"]


def _static_pod(command: list[str], *, node="cp-1", namespace="kube-system", args=None):
    component = command[0]
    fields = {"command": command, **({"args": args} if args else {})}
    return pod(
        container(component, image=f"registry.k8s.io/{component}:v1.31.2", **fields),
        name=f"{component}-{node}",
        namespace=namespace,
        labels={"component": component, "tier": "control-plane"},
    )


def test_flags_are_read_as_the_components_read_them():
    flags = parse_flags(["--a=1", "--b", "2", "--profiling", "false", "--a=3", "positional", "-v=2"])
    # A boolean flag takes no separate value: "--profiling false" leaves profiling on.
    assert flags == {"a": "3", "b": "2", "profiling": "true", "v": "2"}


def test_one_dash_flags_and_configuration_files_are_understood():
    assert findings("control-plane-open-access", _static_pod(["etcd", "-client-cert-auth=true"])) == []
    # With a configuration file the flags do not tell everything: not judged.
    assert findings("control-plane-open-access", _static_pod(["etcd", "--config-file=/etc/etcd.yaml"])) == []
    configured = _static_pod(["kube-scheduler", "--config=/etc/kubernetes/scheduler.yaml"])
    results = scan(configured, checks=["control-plane-not-hardened"])
    assert (results.findings, results.evaluated["control-plane-not-hardened"]) == ([], 0)


def test_an_api_server_that_authorizes_everything_is_open_access():
    for command in (
        ["kube-apiserver", "--secure-port=6443"],  # AlwaysAllow is the default
        ["kube-apiserver", "--authorization-mode=AlwaysAllow"],
        [*KUBEADM_API_SERVER, "--token-auth-file=/etc/kubernetes/tokens.csv"],
        [*KUBEADM_API_SERVER, "--enable-admission-plugins=NodeRestriction,AlwaysAdmit"],
    ):
        [result] = findings("control-plane-open-access", _static_pod(command))
        assert (result.kind, result.namespace, result.name) == ("Pod", "kube-system", "kube-apiserver-cp-1")
        assert result.container == "kube-apiserver"
        assert result.path == "spec.containers[0].command"
    [result] = findings(
        "control-plane-open-access", _static_pod(["kube-apiserver", "--authorization-mode=Node"])
    )
    assert "does not authorize with RBAC" in result.message
    assert result.value == {"component": "kube-apiserver", "cis": "1.2.8"}


def test_kubeadm_defaults_and_structured_authorization_are_not_open_access():
    structured = ["kube-apiserver", "--authorization-config=/etc/kubernetes/authz.yaml"]
    for command in (KUBEADM_API_SERVER, structured, KUBEADM_ETCD):
        assert findings("control-plane-open-access", _static_pod(command)) == [], command


def test_etcd_without_client_certificates_is_open_access():
    [result] = findings(
        "control-plane-open-access", _static_pod(["etcd", "--listen-client-urls=https://0.0.0.0:2379"])
    )
    assert "without checking their certificates" in result.message
    [result] = findings("control-plane-open-access", _static_pod([*KUBEADM_ETCD, "--auto-tls=true"]))
    assert result.value["cis"] == "2.3"


def test_secrets_are_unencrypted_without_an_encryption_configuration():
    [result] = findings("secrets-not-encrypted-at-rest", _static_pod(KUBEADM_API_SERVER))
    assert "unencrypted" in result.message
    assert findings("secrets-not-encrypted-at-rest", _static_pod(HARDENED_API_SERVER)) == []


def test_an_api_server_without_audit_logging_is_reported():
    [result] = findings("api-server-no-audit-log", _static_pod(KUBEADM_API_SERVER))
    assert result.value["cis"] == "1.2.16"
    webhook = [*KUBEADM_API_SERVER, "--audit-webhook-config-file=/etc/kubernetes/audit/webhook.yaml"]
    assert findings("api-server-no-audit-log", _static_pod(webhook)) == []
    assert findings("api-server-no-audit-log", _static_pod(HARDENED_API_SERVER)) == []


def test_kubeadm_defaults_leave_profiling_on_and_kubelets_unverified():
    [api_server] = findings("control-plane-not-hardened", _static_pod(KUBEADM_API_SERVER))
    assert "serves profiling data" in api_server.message
    assert "--kubelet-certificate-authority" in api_server.message
    assert "NodeRestriction" not in api_server.message  # kubeadm enables it
    [scheduler] = findings("control-plane-not-hardened", _static_pod(KUBEADM_SCHEDULER))
    assert "serves profiling data" in scheduler.message
    assert "bind-address" not in scheduler.message
    hardened = (
        _static_pod(HARDENED_API_SERVER),
        _static_pod([*KUBEADM_CONTROLLER_MANAGER, "--profiling=false"]),
        _static_pod([*KUBEADM_SCHEDULER, "--profiling=false"]),
    )
    assert findings("control-plane-not-hardened", *hardened) == []


def test_a_controller_manager_on_every_interface_with_shared_credentials_is_not_hardened():
    [result] = findings(
        "control-plane-not-hardened", _static_pod(["kube-controller-manager", "--profiling=false"])
    )
    assert "--use-service-account-credentials" in result.message
    assert "every interface (--bind-address=0.0.0.0)" in result.message


def test_flags_given_as_args_count_too():
    pod_with_args = _static_pod(["kube-apiserver"], args=HARDENED_API_SERVER[1:])
    for check_id in ("control-plane-open-access", "secrets-not-encrypted-at-rest", "api-server-no-audit-log"):
        assert findings(check_id, pod_with_args) == [], check_id


def test_only_control_plane_pods_in_kube_system_are_evaluated():
    # A managed control plane has none; a look-alike elsewhere is somebody's workload.
    elsewhere = _static_pod(["kube-apiserver"], namespace="shop")
    other = pod(container("app", command=["/app", "--profiling=true"]), namespace="kube-system")
    checks = ["control-plane-open-access", "control-plane-not-hardened", "api-server-no-audit-log"]
    results = scan(elsewhere, other, checks=checks)
    assert results.findings == []
    assert all(results.evaluated[check_id] == 0 for check_id in checks)
    results = scan(_static_pod(KUBEADM_ETCD), checks=checks)
    assert (results.evaluated["control-plane-open-access"], results.evaluated["api-server-no-audit-log"]) == (
        1,
        0,
    )
