from pathlib import Path

import yaml

from posture.agent_push import EXIT_REFUSED
from posture.scanning.collectors import live

AGENT = Path(__file__).resolve().parents[2] / "deploy" / "agent"


def _documents():
    return [
        doc for path in sorted(AGENT.glob("*.yaml")) for doc in yaml.safe_load_all(path.read_text()) if doc
    ]


def _one(kind):
    (found,) = [doc for doc in _documents() if doc["kind"] == kind]
    return found


def test_the_agent_cluster_role_lists_exactly_what_the_collector_reads_and_nothing_more():
    granted = {
        (group, resource, verb)
        for rule in _one("ClusterRole")["rules"]
        for group in rule["apiGroups"]
        for resource in rule["resources"]
        for verb in rule["verbs"]
    }
    needed = {
        (group, resource, "list")
        for rule in live.required_rbac_rules()
        for group in rule["apiGroups"]
        for resource in rule["resources"]
    }
    assert granted == needed


def test_the_cronjob_runs_the_collect_command_hardened_with_the_token_from_a_mounted_secret():
    cronjob = _one("CronJob")
    pod = cronjob["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    command = " ".join(container["command"] + container["args"])
    assert "manage.py collect --in-cluster" in command
    assert "--token-file /var/run/secrets/rampart-agent/token" in command
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    assert pod["securityContext"]["runAsNonRoot"] is True
    security = container["securityContext"]
    assert security["readOnlyRootFilesystem"] is True
    assert security["allowPrivilegeEscalation"] is False
    assert security["capabilities"] == {"drop": ["ALL"]}
    assert container["resources"]["limits"]
    assert container["resources"]["requests"]
    secrets = [volume for volume in pod["volumes"] if "secret" in volume]
    assert [volume["secret"]["secretName"] for volume in secrets] == ["rampart-agent-token"]
    assert all("valueFrom" not in env for env in container.get("env", []))
    assert pod["serviceAccountName"] == _one("ServiceAccount")["metadata"]["name"]
    binding = _one("ClusterRoleBinding")
    assert binding["subjects"][0]["name"] == "rampart-agent"
    assert binding["roleRef"]["name"] == _one("ClusterRole")["metadata"]["name"]


def test_a_refused_push_fails_the_job_at_once_instead_of_retrying_pods_that_would_be_refused_too():
    job = _one("CronJob")["spec"]["jobTemplate"]["spec"]
    assert job["template"]["spec"]["restartPolicy"] == "Never"  # podFailurePolicy requires it
    (rule,) = job["podFailurePolicy"]["rules"]
    assert rule["action"] == "FailJob"
    assert rule["onExitCodes"] == {"containerName": "agent", "operator": "In", "values": [EXIT_REFUSED]}
