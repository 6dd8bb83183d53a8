"""The "Test connection" report: what Rampart can and cannot read, without raising."""

import pytest
import urllib3
import yaml

from posture.scanning.collectors import live
from tests.live.conftest import FAST_TIMEOUT, token_connection


def _by_plural(report) -> dict[str, tuple[str, str]]:
    # Kubernetes' own types come first; an add-on's type of the same plural (Calico's
    # networkpolicies) is asked for by its group.
    found: dict[str, tuple[str, str]] = {}
    for access in report.resources:
        found.setdefault(access.plural, (access.status, access.reason))
    return found


def test_the_report_says_per_resource_type_what_can_and_cannot_be_read(serve, objects):
    kube = serve(
        objects,
        forbidden={"nodes"},
        missing_groups={"networking.k8s.io"},
        delays={"/apis/batch/v1/jobs": 30},
        crd_groups={"external-secrets.io"},
    )

    report = live.test_connection(token_connection(kube), request_timeout=FAST_TIMEOUT)

    assert report.ok
    assert report.error == ""
    assert report.server_version == "v1.31.4"
    access = _by_plural(report)
    assert access["pods"] == ("readable", "")
    assert access["secrets"] == ("readable", "")
    assert access["nodes"][0] == "forbidden"
    assert 'cannot list resource "nodes"' in access["nodes"][1]
    assert access["networkpolicies"] == (
        "not_served",
        "API group not served: networking.k8s.io is not available on this cluster",
    )
    assert access["jobs"] == ("timeout", "the API server did not answer within 1 s")
    assert access["externalsecrets"] == ("readable", "")
    assert access["sealedsecrets"] == ("not_installed", "its API group is not installed")
    calico = [
        a for a in report.resources if a.group == "crd.projectcalico.org" and a.plural == "networkpolicies"
    ]
    assert [(a.status, a.kind) for a in calico] == [("not_installed", "NetworkPolicy")]
    assert report.secret_managers == {"external-secrets.io": "External Secrets Operator"}
    assert {a.plural for a in report.unreadable} == {"nodes", "networkpolicies", "ingresses", "jobs"}
    assert report.as_dict()["resources"][0] == {
        "kind": "Namespace",
        "group": "",
        "plural": "namespaces",
        "status": "readable",
        "reason": "",
    }


def test_the_report_reads_one_object_per_type_at_most(kube):
    live.test_connection(token_connection(kube))

    lists = [request for request in kube.requests if "limit" in request.query]
    assert lists
    assert {request.query["limit"] for request in lists} == {"1"}
    assert not [request for request in lists if request.query.get("continue")]


def test_the_report_explains_a_failure_instead_of_raising(kube):
    report = live.test_connection(token_connection(kube, token="expired-token"))

    assert not report.ok
    assert report.error == (
        "the API server rejected Rampart's credentials (401 Unauthorized): "
        "the token is invalid or has expired"
    )
    assert report.resources == []


def test_the_report_warns_when_tls_verification_is_disabled(kube):
    config = kube.kubeconfig()
    cluster = config["clusters"][0]["cluster"]
    del cluster["certificate-authority-data"]
    cluster["insecure-skip-tls-verify"] = True

    connection = live.connection_from("kubeconfig", credentials=yaml.safe_dump(config))
    with pytest.warns(urllib3.exceptions.InsecureRequestWarning):
        report = live.test_connection(connection)

    assert report.ok
    assert report.warnings == [
        "TLS verification is disabled (insecure-skip-tls-verify): the token could be intercepted; "
        "embed the cluster's CA instead"
    ]


def test_a_slow_server_gets_a_partial_report_within_the_deadline(serve, objects):
    # The user waits on a web request, behind a worker timeout: a slow cluster must not hold it.
    kube = serve(objects, delay=0.3)

    report = live.test_connection(token_connection(kube), request_timeout=FAST_TIMEOUT, deadline=1.5)

    assert report.ok
    assert report.seconds < 1.5 + 2 * FAST_TIMEOUT
    statuses = [access.status for access in report.resources]
    assert "readable" in statuses
    assert "not_tried" in statuses
    not_tried = next(access for access in report.resources if access.status == "not_tried")
    assert not_tried.reason == "the test stops after 1.5 s and this server answers slowly"
    assert report.time_allowed == 1.5


def test_types_left_untried_are_not_reported_unreadable_and_prove_no_secret_manager(serve, objects):
    # Deployments answer after the deadline: everything after them is left, the secret store's
    # kinds included, although discovery lists its API group.
    kube = serve(
        objects,
        forbidden={"nodes"},
        crd_groups={"external-secrets.io"},
        delays={"/apis/apps/v1/deployments": 2.5},
    )

    report = live.test_connection(token_connection(kube), request_timeout=5, deadline=2)

    assert report.ok
    assert [access.plural for access in report.unreadable] == ["nodes"]
    assert "externalsecrets" in {access.plural for access in report.not_tried}
    assert "Deployment" not in report.not_tried_kinds  # it was tried, and read, if slowly
    assert report.not_tried_kinds[:2] == ["StatefulSet", "DaemonSet"]
    assert report.secret_managers == {}


def test_the_probe_does_not_say_no_secret_manager_when_it_left_them_untried(
    serve, objects, monkeypatch, tmp_path, capsys
):
    from functools import partial

    from posture.scanning.collectors import probe

    kube = serve(objects, crd_groups={"external-secrets.io"}, delays={"/apis/apps/v1/deployments": 2.5})
    monkeypatch.setattr(probe, "check_access", partial(live.test_connection, deadline=2))
    kubeconfig = tmp_path / "config"
    kubeconfig.write_text(yaml.safe_dump(kube.kubeconfig()))

    assert probe.main(["--kubeconfig", str(kubeconfig)]) == 0

    output = capsys.readouterr().out
    assert "secrets     managed by: not known: the test stopped before trying them all" in output
    assert "none detected" not in output
