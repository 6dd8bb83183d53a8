"""Workload checks: each fails on the risky pod template and passes on the hardened one."""

import json
from datetime import UTC, datetime

from posture.scanning import engine
from posture.scanning.checks import load_catalogue
from posture.scanning.inventory import Inventory
from tests.scanning.checks.builders import (
    container,
    deployment,
    findings,
    hardened_container,
    names,
    obj,
    pod,
    scan,
)


def _sc(**security_context) -> dict:
    return container(securityContext=security_context)


# --- security context ---------------------------------------------------------


def test_it_flags_a_container_that_runs_privileged():
    [result] = findings("privileged-container", deployment(_sc(privileged=True)))
    assert result.path == "spec.template.spec.containers[0].securityContext.privileged"
    assert result.value is True
    assert result.container == "app"


def test_it_treats_adding_sys_admin_as_running_privileged():
    [result] = findings("privileged-container", deployment(_sc(capabilities={"add": ["CAP_SYS_ADMIN"]})))
    assert result.value == ["SYS_ADMIN"]


def test_it_passes_a_container_that_is_not_privileged():
    assert findings("privileged-container", deployment(_sc(privileged=False))) == []


def test_it_flags_privileged_init_and_ephemeral_containers_too():
    workload = pod(container(), initContainers=[_sc(privileged=True) | {"name": "init"}])
    assert [r.container for r in findings("privileged-container", workload)] == ["init"]


def test_it_flags_a_container_that_may_escalate_privileges():
    [result] = findings("allow-privilege-escalation", deployment(container()))
    assert result.value is None


def test_it_passes_a_container_that_forbids_privilege_escalation():
    assert findings("allow-privilege-escalation", deployment(_sc(allowPrivilegeEscalation=False))) == []


def test_it_flags_a_container_that_may_run_as_root():
    assert len(findings("run-as-root", deployment(container()))) == 1


def test_it_flags_an_explicit_uid_zero_even_under_a_non_root_pod():
    workload = deployment(_sc(runAsUser=0), securityContext={"runAsNonRoot": True})
    [result] = findings("run-as-root", workload)
    assert result.value == 0


def test_it_passes_a_pod_level_run_as_non_root():
    assert findings("run-as-root", deployment(container(), securityContext={"runAsNonRoot": True})) == []


def test_it_flags_a_writable_root_filesystem():
    assert len(findings("no-readonly-rootfs", deployment(container()))) == 1


def test_it_passes_a_read_only_root_filesystem():
    assert findings("no-readonly-rootfs", deployment(_sc(readOnlyRootFilesystem=True))) == []


def test_it_flags_a_capability_outside_the_baseline_set():
    [result] = findings(
        "dangerous-capabilities", deployment(_sc(capabilities={"add": ["nEt_aDmIn", "CHOWN"]}))
    )
    assert result.value == ["NET_ADMIN"]


def test_it_passes_capabilities_the_baseline_allows():
    assert (
        findings("dangerous-capabilities", deployment(_sc(capabilities={"add": ["NET_BIND_SERVICE"]}))) == []
    )


def test_it_flags_a_container_that_keeps_its_default_capabilities():
    assert len(findings("capabilities-not-dropped", deployment(_sc(capabilities={"drop": ["NET_RAW"]})))) == 1


def test_it_passes_a_container_that_drops_all_capabilities():
    assert findings("capabilities-not-dropped", deployment(_sc(capabilities={"drop": ["all"]}))) == []


def test_it_accepts_dropping_every_runtime_default_capability_by_name():
    defaults = [
        "AUDIT_WRITE",
        "CHOWN",
        "DAC_OVERRIDE",
        "FOWNER",
        "FSETID",
        "KILL",
        "MKNOD",
        "NET_BIND_SERVICE",
        "NET_RAW",
        "SETFCAP",
        "SETGID",
        "SETPCAP",
        "SETUID",
        "SYS_CHROOT",
    ]
    assert findings("capabilities-not-dropped", deployment(_sc(capabilities={"drop": defaults}))) == []


def test_windows_pods_are_not_held_to_linux_only_controls():
    # The API server rejects these fields when spec.os.name is windows; PSS exempts such pods.
    linux_only = (
        "no-seccomp",
        "capabilities-not-dropped",
        "allow-privilege-escalation",
        "no-readonly-rootfs",
    )
    windows = deployment(container(), os={"name": "windows"})
    linux = deployment(container(), os={"name": "linux"})
    for check in linux_only:
        assert findings(check, windows) == [], check
        assert scan(windows, checks=[check]).evaluated[check] == 0, check
        assert names(findings(check, linux)) == [("Deployment", "web")], check
    assert names(findings("run-as-root", windows)) == [("Deployment", "web")]


def test_it_flags_a_container_without_a_seccomp_profile():
    assert len(findings("no-seccomp", deployment(container()))) == 1


def test_it_flags_an_unconfined_container_under_a_confined_pod():
    workload = deployment(
        _sc(seccompProfile={"type": "Unconfined"}),
        securityContext={"seccompProfile": {"type": "RuntimeDefault"}},
    )
    [result] = findings("no-seccomp", workload)
    assert result.value == "Unconfined"


def test_it_passes_a_pod_level_runtime_default_seccomp_profile():
    workload = deployment(container(), securityContext={"seccompProfile": {"type": "RuntimeDefault"}})
    assert findings("no-seccomp", workload) == []


def test_it_does_not_count_the_removed_seccomp_annotation():
    workload = pod(annotations={"seccomp.security.alpha.kubernetes.io/pod": "runtime/default"})
    assert len(findings("no-seccomp", workload)) == 1


def test_it_flags_an_unmasked_proc_mount():
    assert len(findings("unmasked-proc-mount", deployment(_sc(procMount="Unmasked")))) == 1


def test_it_passes_the_default_proc_mount():
    assert findings("unmasked-proc-mount", deployment(_sc(procMount="Default"))) == []


def test_it_flags_a_sysctl_outside_the_safe_set():
    workload = deployment(container(), securityContext={"sysctls": [{"name": "kernel.msgmax", "value": "1"}]})
    [result] = findings("unsafe-sysctls", workload)
    assert result.value == "kernel.msgmax"


def test_it_passes_a_safe_sysctl():
    sysctls = [
        {"name": "net.ipv4.ip_local_port_range", "value": "1024 65535"},
        {"name": "net.ipv4.tcp_rmem", "value": "4096 87380 6291456"},  # baseline since Kubernetes 1.32
    ]
    assert findings("unsafe-sysctls", deployment(container(), securityContext={"sysctls": sysctls})) == []


def test_it_flags_a_windows_host_process_container():
    assert len(findings("windows-host-process", deployment(_sc(windowsOptions={"hostProcess": True})))) == 1


def test_it_passes_a_windows_container_that_is_not_a_host_process():
    assert findings("windows-host-process", deployment(_sc(windowsOptions={"runAsUserName": "app"}))) == []


# --- host namespaces and file system ----------------------------------------------


def test_it_flags_a_pod_on_the_host_network():
    [result] = findings("host-network", deployment(hostNetwork=True))
    assert result.path == "spec.template.spec.hostNetwork"


def test_it_passes_a_pod_on_its_own_network():
    assert findings("host-network", deployment(hostNetwork=False)) == []


def test_it_flags_a_pod_in_the_host_pid_namespace():
    assert len(findings("host-pid", deployment(hostPID=True))) == 1


def test_it_passes_a_pod_in_its_own_pid_namespace():
    assert findings("host-pid", deployment()) == []


def test_it_flags_a_pod_in_the_host_ipc_namespace():
    assert len(findings("host-ipc", deployment(hostIPC=True))) == 1


def test_it_passes_a_pod_in_its_own_ipc_namespace():
    assert findings("host-ipc", deployment()) == []


def test_it_flags_a_container_that_binds_a_host_port():
    [result] = findings("host-port", deployment(container(ports=[{"containerPort": 80, "hostPort": 8080}])))
    assert result.value == 8080


def test_it_passes_a_container_port_without_a_host_port():
    assert findings("host-port", deployment(container(ports=[{"containerPort": 80}]))) == []


def test_it_flags_a_host_path_volume_even_read_only():
    workload = deployment(volumes=[{"name": "logs", "hostPath": {"path": "/var/log"}}])
    [result] = findings("host-path", workload)
    assert result.value == "/var/log"
    assert result.path == "spec.template.spec.volumes[0].hostPath.path"


def test_it_passes_volumes_that_do_not_reach_the_host():
    assert findings("host-path", deployment(volumes=[{"name": "tmp", "emptyDir": {}}])) == []


def test_it_flags_a_mounted_container_runtime_socket():
    for path in ("/var/run/docker.sock", "/run/containerd/containerd.sock", "/var/run/docker", "/run", "/"):
        workload = deployment(volumes=[{"name": "sock", "hostPath": {"path": path}}])
        assert len(findings("docker-socket-mount", workload)) == 1, path


def test_it_passes_host_paths_that_hold_no_runtime_socket():
    workload = deployment(
        volumes=[
            {"name": "v", "hostPath": {"path": "/var"}},
            {"name": "l", "hostPath": {"path": "/var/log/pods"}},
        ]
    )
    assert findings("docker-socket-mount", workload) == []


# --- resources and probes -----------------------------------------------------------


def test_it_flags_containers_without_cpu_or_memory_limits():
    workload = deployment(container(resources={"requests": {"cpu": "1", "memory": "1Gi"}}))
    assert len(findings("no-cpu-limit", workload)) == 1
    assert len(findings("no-memory-limit", workload)) == 1


def test_it_passes_containers_with_limits():
    workload = deployment(container(resources={"limits": {"cpu": "1", "memory": "1Gi"}}))
    assert findings("no-cpu-limit", workload) == findings("no-memory-limit", workload) == []


def test_it_flags_containers_without_requests_even_when_limits_are_set():
    workload = deployment(container(resources={"limits": {"cpu": "1", "memory": "1Gi"}}))
    assert len(findings("no-cpu-request", workload)) == 1
    assert len(findings("no-memory-request", workload)) == 1


def test_it_passes_containers_with_requests():
    workload = deployment(container(resources={"requests": {"cpu": "1", "memory": "1Gi"}}))
    assert findings("no-cpu-request", workload) == findings("no-memory-request", workload) == []


def test_it_counts_limit_range_defaults_in_the_namespace():
    limit_range = obj(
        "LimitRange",
        "defaults",
        spec={
            "limits": [
                {
                    "type": "Container",
                    "default": {"cpu": "1", "memory": "1Gi"},
                    "defaultRequest": {"cpu": "100m"},
                }
            ]
        },
    )
    workload = deployment(container())
    for check in ("no-cpu-limit", "no-memory-limit", "no-cpu-request", "no-memory-request"):
        assert findings(check, workload, limit_range) == [], check


def test_a_limit_range_max_or_min_fills_in_defaults_as_the_api_server_does():
    def limit_range(**item):
        return obj("LimitRange", "bounds", spec={"limits": [{"type": "Container", **item}]})

    workload = deployment(container())
    only_max = limit_range(max={"cpu": "2", "memory": "1Gi"})  # max becomes the default limit and request
    for check in ("no-cpu-limit", "no-memory-limit", "no-cpu-request", "no-memory-request"):
        assert findings(check, workload, only_max) == [], check
    only_min = limit_range(min={"cpu": "50m", "memory": "64Mi"})  # min becomes the default request only
    assert findings("no-cpu-request", workload, only_min) == []
    assert len(findings("no-cpu-limit", workload, only_min)) == 1


def test_it_is_not_assessed_when_limit_ranges_could_not_be_read():
    results = scan(deployment(container()), checks=["no-cpu-limit"], gaps={"LimitRange": "forbidden"})
    assert "no-cpu-limit" in results.not_assessed


def test_it_flags_a_long_running_container_without_probes():
    assert len(findings("no-liveness-probe", deployment(container()))) == 1
    assert len(findings("no-readiness-probe", deployment(container()))) == 1


def test_it_passes_containers_with_probes():
    workload = deployment(hardened_container())
    assert findings("no-liveness-probe", workload) == findings("no-readiness-probe", workload) == []


def test_it_does_not_evaluate_probes_on_jobs():
    job = obj(
        "Job",
        "migrate",
        api_version="batch/v1",
        spec={"template": {"spec": {"containers": [container()], "restartPolicy": "Never"}}},
    )
    results = scan(job, checks=["no-liveness-probe"])
    assert results.findings == []
    assert results.evaluated["no-liveness-probe"] == 0


# --- images --------------------------------------------------------------------------


def test_it_flags_latest_and_missing_tags():
    for image in ("nginx", "nginx:latest", "registry.example.com:5000/shop/app"):
        assert len(findings("latest-tag", deployment(container(image=image)))) == 1, image


def test_it_passes_a_fixed_tag_or_a_digest():
    for image in ("nginx:1.27.1", "nginx@sha256:" + "b" * 64, "registry.example.com:5000/app:2.0"):
        assert findings("latest-tag", deployment(container(image=image))) == [], image


def test_retired_software_is_reported_whatever_registry_serves_it():
    controller = container(
        "controller", image="registry.example.com/mirror/ingress-nginx/controller:v1.15.1@sha256:" + "c" * 64
    )
    [result] = findings("end-of-life-software", deployment(controller, name="ingress-nginx-controller"))
    assert result.container == "controller"
    assert result.path == "spec.template.spec.containers[0].image"
    assert "ingress-nginx" in result.message
    assert "was retired in March 2026" in result.message
    assert "Gateway API" in result.message
    for image in (
        "kubernetesui/dashboard:v2.7.0",
        "docker.io/bitnamilegacy/redis:7.2",
        "gcr.io/kubernetes-helm/tiller",
    ):
        assert len(findings("end-of-life-software", deployment(container(image=image)))) == 1, image


def test_maintained_namesakes_and_other_parts_of_a_retired_project_pass():
    for image in (
        "nginx/nginx-ingress:3.7.0",  # F5's NGINX Ingress Controller, which goes on
        "registry.k8s.io/ingress-nginx/kube-webhook-certgen:v1.4.4",  # a one-off Job, not the way in
        "headlamp-k8s/headlamp:v0.40.1",
        "bitnami/redis:7.2",
    ):
        assert findings("end-of-life-software", deployment(container(image=image))) == [], image


def test_an_end_of_life_counts_from_its_date_on_the_scans_clock():
    dashboard = deployment(container(image="kubernetesui/dashboard:v2.7.0"))
    inventory = Inventory.from_objects([dashboard])
    check = [load_catalogue().get("end-of-life-software")]
    before = engine.run(inventory, check, now=datetime(2025, 12, 1, tzinfo=UTC))
    after = engine.run(inventory, check, now=datetime(2026, 2, 1, tzinfo=UTC))
    assert (before.findings, before.evaluated["end-of-life-software"]) == ([], 1)
    assert len(after.findings) == 1


def test_it_flags_an_image_without_a_well_formed_digest():
    for image in ("nginx:1.25", "nginx@sha256:abc", "nginx@sha256:" + "A" * 64):
        assert len(findings("image-not-pinned-to-digest", deployment(container(image=image)))) == 1, image


TRUSTED = {
    "trusted_registries": ["registry.example.com", "*.dkr.ecr.eu-west-1.amazonaws.com", "ghcr.io/acme"]
}


def test_it_flags_images_from_registries_outside_the_trusted_list():
    outside = [
        "nginx:1.27",  # docker.io/library/nginx
        "acme/api:1.0",  # docker.io/acme/api
        "ghcr.io/evil/api:1.0",  # another owner on a trusted host
        "ghcr.io/acme-evil/api:1.0",  # a prefix of the path is not the path
        "registry.example.com.attacker.net/api:1",
        "localhost:5000/api:1",
    ]
    for image in outside:
        [result] = findings("untrusted-registry", deployment(container(image=image)), options=TRUSTED)
        assert result.value == image
        assert result.path == "spec.template.spec.containers[0].image"
        assert "which is not a trusted registry" in result.message


def test_it_passes_images_from_trusted_registries():
    trusted = [
        "registry.example.com/shop/api:1.0",
        "REGISTRY.example.com/shop/api@sha256:" + "a" * 64,
        "123456789012.dkr.ecr.eu-west-1.amazonaws.com/api:1.0",
        "ghcr.io/acme/api:1.0",
        "registry.example.com:443/shop/api:1.0",
    ]
    for image in trusted[:-1]:
        assert findings("untrusted-registry", deployment(container(image=image)), options=TRUSTED) == [], (
            image
        )
    # A port is part of the host: trusting it needs the port too.
    assert findings("untrusted-registry", deployment(container(image=trusted[-1])), options=TRUSTED) != []


def test_docker_hub_is_trusted_by_name_and_official_images_by_their_library_path():
    hub = {"trusted_registries": ["docker.io/library"]}
    assert findings("untrusted-registry", deployment(container(image="nginx:1.27")), options=hub) == []
    assert (
        findings("untrusted-registry", deployment(container(image="docker.io/library/nginx")), options=hub)
        == []
    )
    assert len(findings("untrusted-registry", deployment(container(image="acme/api:1")), options=hub)) == 1
    everything_on_hub = {"trusted_registries": ["docker.io"]}
    assert (
        findings("untrusted-registry", deployment(container(image="acme/api:1")), options=everything_on_hub)
        == []
    )


def test_without_a_trusted_list_the_registry_check_does_not_run_nor_count():
    results = scan(deployment(container(image="nginx:1.27")), checks=["untrusted-registry"])
    assert results.findings == []
    assert results.evaluated["untrusted-registry"] == 0  # no passes to flatter the score
    assert "untrusted-registry" in results.switched_off


def test_it_passes_an_image_pinned_to_a_digest():
    for image in ("nginx:1.25@sha256:" + "a" * 64, "nginx@sha512:" + "a" * 128, "nginx@custom-alg:xyz"):
        assert findings("image-not-pinned-to-digest", deployment(container(image=image))) == [], image


def test_it_flags_a_pull_policy_other_than_always_including_unset():
    assert (
        len(findings("image-pull-policy-not-always", deployment(container(imagePullPolicy="IfNotPresent"))))
        == 1
    )
    assert len(findings("image-pull-policy-not-always", deployment(container()))) == 1


def test_it_passes_an_always_pull_policy():
    assert findings("image-pull-policy-not-always", deployment(container(imagePullPolicy="Always"))) == []


# --- identity ------------------------------------------------------------------------------


def test_it_flags_a_mounted_service_account_token():
    [result] = findings("automount-sa-token", deployment(serviceAccountName="web"))
    assert result.path == "spec.template.spec.automountServiceAccountToken"


def test_it_flags_a_pod_that_asks_for_the_token_its_account_disables():
    account = obj("ServiceAccount", "web", automountServiceAccountToken=False)
    workload = deployment(serviceAccountName="web", automountServiceAccountToken=True)
    assert len(findings("automount-sa-token", workload, account)) == 1


def test_it_passes_when_the_service_account_disables_the_token():
    account = obj("ServiceAccount", "web", automountServiceAccountToken=False)
    assert findings("automount-sa-token", deployment(serviceAccountName="web"), account) == []


def test_it_flags_a_default_service_account_that_automounts_its_token():
    [result] = findings("automount-sa-token", obj("ServiceAccount", "default"))
    assert (result.kind, result.name) == ("ServiceAccount", "default")


def test_it_does_not_evaluate_other_service_accounts_themselves():
    results = scan(obj("ServiceAccount", "web"), checks=["automount-sa-token"])
    assert results.findings == []
    assert results.evaluated["automount-sa-token"] == 0


def test_it_flags_a_workload_on_the_default_service_account():
    assert len(findings("default-service-account", deployment())) == 1
    assert len(findings("default-service-account", deployment(serviceAccount="default"))) == 1


def test_it_passes_a_workload_with_its_own_service_account():
    assert findings("default-service-account", deployment(serviceAccountName="web")) == []


# --- credentials in the environment ------------------------------------------------------


def test_it_flags_a_credential_written_into_an_environment_variable():
    env = [{"name": "LOG_LEVEL", "value": "info"}, {"name": "DB_PASSWORD", "value": "hunter2-prod"}]
    [result] = findings("secret-in-env", deployment(container(env=env)))
    assert result.path == "spec.template.spec.containers[0].env[1].value"
    assert result.value == {"name": "DB_PASSWORD", "value": "<redacted, 12 chars>"}


def test_it_flags_a_value_shaped_like_a_credential_whatever_its_name():
    env = [{"name": "DB_URL", "value": "postgres://app:s3cr3t-pa55@db:5432/shop"}]
    [result] = findings("secret-in-env", deployment(container(env=env)))
    assert "URL with a password" in result.message


def test_it_flags_a_url_password_without_a_user_and_run_together_password_names():
    for env in (
        [{"name": "REDIS_URL", "value": "redis://:s3cr3tP4ss@redis:6379/0"}],
        [{"name": "PGPASSWORD", "value": "hunter2-prod"}],
    ):
        assert len(findings("secret-in-env", deployment(container(env=env)))) == 1, env
    harmless = [
        {"name": "SERVICE_URL", "value": "http://api:8080/v1"},
        {"name": "PGPASSWORD_FILE", "value": "/run/pg"},
    ]
    assert findings("secret-in-env", deployment(container(env=harmless))) == []


def test_the_credential_never_appears_in_the_finding():
    secret = "AKIAIOSFODNN7EXAMPLE"
    env = [{"name": "AWS_ACCESS_KEY", "value": secret}, {"name": "API_TOKEN", "value": "tok-" + secret}]
    [result] = findings("secret-in-env", deployment(container(env=env)))
    serialised = json.dumps({**result.as_dict(), "value": result.value}, default=str)
    assert secret not in serialised
    assert "tok-" not in serialised
    assert "AKIA" not in serialised


def test_it_passes_references_paths_and_harmless_names():
    env = [
        {"name": "DB_PASSWORD", "valueFrom": {"secretKeyRef": {"name": "db", "key": "password"}}},
        {"name": "TOKEN_PATH", "value": "/var/run/secrets/token"},
        {"name": "API_KEY_FILE", "value": "/etc/keys/api"},
        {"name": "SECRET_NAME", "value": "db-credentials"},
        {"name": "MAX_TOKENS", "value": "4096"},
        {"name": "AUTH_ENABLED", "value": "true"},
        {"name": "PASSWORD", "value": "$(DB_PASSWORD)"},
    ]
    assert findings("secret-in-env", deployment(container(env=env))) == []


def test_it_flags_secrets_consumed_as_environment_variables():
    env = [{"name": "TOKEN", "valueFrom": {"secretKeyRef": {"name": "api", "key": "token"}}}]
    workload = deployment(container(env=env, envFrom=[{"secretRef": {"name": "db"}}]))
    [result] = findings("secret-ref-in-env", workload)
    assert [v["value"] for v in result.value] == [{"secret": "api", "key": "token"}, {"secret": "db"}]


def test_it_passes_secrets_mounted_as_files():
    workload = deployment(
        container(
            volumeMounts=[{"name": "db", "mountPath": "/var/run/secrets/db"}],
            envFrom=[{"configMapRef": {"name": "settings"}}],
        ),
        volumes=[{"name": "db", "secret": {"secretName": "db"}}],
    )
    assert findings("secret-ref-in-env", workload) == []


# --- placement -----------------------------------------------------------------------------------


def test_it_flags_a_pod_without_a_controller():
    assert names(findings("naked-pod", pod())) == [("Pod", "web")]


def test_it_passes_a_pod_owned_by_a_controller_even_if_the_owner_was_not_collected():
    owned = pod()
    owned["metadata"]["ownerReferences"] = [{"kind": "ReplicaSet", "name": "web-1", "controller": True}]
    assert findings("naked-pod", owned) == []


def test_it_does_not_evaluate_static_mirror_pods():
    mirror = pod(annotations={"kubernetes.io/config.mirror": "abc"})
    assert scan(mirror, checks=["naked-pod"]).evaluated["naked-pod"] == 0


def test_it_flags_objects_in_the_default_namespace():
    objects = (deployment(namespace="default"), obj("ConfigMap", "settings", namespace="default"))
    assert names(findings("default-namespace", *objects)) == [
        ("ConfigMap", "settings"),
        ("Deployment", "web"),
    ]


def test_it_passes_objects_kubernetes_itself_puts_in_the_default_namespace():
    built_in = (
        obj("Service", "kubernetes", namespace="default"),
        obj("ServiceAccount", "default", namespace="default"),
    )
    assert findings("default-namespace", *built_in, deployment(namespace="shop")) == []


def test_a_fully_hardened_workload_passes_every_workload_check():
    workload = deployment(hardened_container(), serviceAccountName="web", automountServiceAccountToken=False)
    results = scan(workload)
    workload_findings = {r.check_id for r in results.findings if r.kind == "Deployment"}
    assert workload_findings == {"no-network-policy"}


# --- AppArmor and SELinux (PSS baseline) ----------------------------------------------------------


def test_it_flags_an_unconfined_apparmor_profile_by_field_or_annotation():
    field = deployment(container(securityContext={"appArmorProfile": {"type": "Unconfined"}}))
    [result] = findings("apparmor-unconfined", field)
    assert result.path == "spec.template.spec.containers[0].securityContext.appArmorProfile.type"
    annotated = deployment(container(), name="old")
    annotated["spec"]["template"]["metadata"]["annotations"] = {
        "container.apparmor.security.beta.kubernetes.io/app": "unconfined"
    }
    [result] = findings("apparmor-unconfined", annotated)
    assert result.container == "app"


def test_it_passes_runtime_default_and_localhost_apparmor_profiles():
    confined = deployment(
        container(securityContext={"appArmorProfile": {"type": "Localhost", "localhostProfile": "shop"}}),
        securityContext={"appArmorProfile": {"type": "RuntimeDefault"}},
    )
    assert findings("apparmor-unconfined", confined) == []


def test_it_flags_an_selinux_type_that_lifts_confinement_or_a_user_or_role():
    spc = deployment(container(securityContext={"seLinuxOptions": {"type": "spc_t"}}))
    [result] = findings("selinux-custom-options", spc)
    assert result.value == "spc_t"
    role = deployment(container(), securityContext={"seLinuxOptions": {"role": "system_r"}})
    [result] = findings("selinux-custom-options", role)
    assert result.path == "spec.template.spec.securityContext.seLinuxOptions.role"


def test_it_passes_the_container_types_and_a_level():
    allowed = deployment(
        container(securityContext={"seLinuxOptions": {"type": "container_init_t"}}),
        securityContext={"seLinuxOptions": {"level": "s0:c123,c456"}},
    )
    assert findings("selinux-custom-options", allowed) == []


def test_it_flags_a_probe_or_hook_that_targets_another_host():
    probe = {"httpGet": {"host": "169.254.169.254", "path": "/latest/meta-data/", "port": 80}}
    [result] = findings("probe-host-set", deployment(container(livenessProbe=probe)))
    assert result.path == "spec.template.spec.containers[0].livenessProbe.httpGet.host"
    hook = {"preStop": {"tcpSocket": {"host": "10.0.0.1", "port": 22}}}
    assert len(findings("probe-host-set", deployment(container(lifecycle=hook)))) == 1


def test_it_passes_probes_of_the_pod_itself():
    own = {"httpGet": {"path": "/healthz", "port": 8080, "host": ""}}
    assert (
        findings(
            "probe-host-set",
            deployment(container(readinessProbe=own, livenessProbe={"tcpSocket": {"port": 8080}})),
        )
        == []
    )
    loopback = {"httpGet": {"host": "127.0.0.1", "path": "/metrics", "port": 7472}}
    on_host = deployment(container(livenessProbe=loopback), hostNetwork=True)
    assert findings("probe-host-set", on_host) == []  # its own address is the node's
    assert len(findings("probe-host-set", deployment(container(livenessProbe=loopback)))) == 1
