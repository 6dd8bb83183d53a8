from datetime import timedelta

from django.urls import reverse
from django.utils import timezone

from findings import triage
from findings.models import Comment, Finding, FindingStatus
from posture.scanning.checks import load_catalogue
from tests.factories import as_yaml, deployment, privileged_finding, scan_snapshot


def test_the_finding_page_shows_the_object_container_and_evidence(client, cluster, viewer):
    finding = privileged_finding(cluster)
    client.force_login(viewer)
    page = client.get(reverse("findings:finding-detail", args=[finding.pk])).text
    assert "Privileged container" in page
    assert "<dt>Container</dt><dd>web</dd>" in page
    assert "<code>spec.template.spec.containers[0].securityContext.privileged</code>" in page
    assert "<code>true</code>" in page
    assert "Deployment <strong>web</strong>" in page


def test_an_empty_namespace_says_whether_the_object_has_none_or_its_manifest_named_none(
    client, cluster, viewer
):
    unnamespaced = deployment("web", privileged=True)
    del unnamespaced["metadata"]["namespace"]
    admin_binding = {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "ClusterRoleBinding",
        "metadata": {"name": "everyone-admin"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "cluster-admin"},
        "subjects": [{"kind": "Group", "name": "developers", "apiGroup": "rbac.authorization.k8s.io"}],
    }
    scan_snapshot(cluster, as_yaml(unnamespaced, admin_binding))
    client.force_login(viewer)
    workload = Finding.objects.get(cluster=cluster, check_id="privileged-container")
    page = client.get(reverse("findings:finding-detail", args=[workload.pk])).text
    assert "<dt>Namespace</dt><dd>— (none: the manifest names no namespace)</dd>" in page
    binding = Finding.objects.get(cluster=cluster, check_id="cluster-admin-binding")
    page = client.get(reverse("findings:finding-detail", args=[binding.pk])).text
    assert "<dt>Namespace</dt><dd>— (cluster-scoped)</dd>" in page
    cluster_page = client.get(reverse("posture:cluster-detail", args=[cluster.pk])).text
    assert '(no namespace)</span><span class="note muted small">cluster-scoped objects' in cluster_page


def test_why_it_matters_and_the_fix_come_from_the_check_with_its_yaml_snippet(client, cluster, viewer):
    finding = privileged_finding(cluster)
    check = load_catalogue().get("privileged-container")
    client.force_login(viewer)
    page = client.get(reverse("findings:finding-detail", args=[finding.pk])).text
    assert "Why it matters" in page
    assert check.description.split()[0] in page
    assert (
        '<pre class="snippet"><code class="language-yaml">securityContext:\n  privileged: false</code></pre>'
        in page
    )
    assert "CIS Kubernetes Benchmark 5.2.2" in page


def test_the_history_lists_every_change_with_who_and_why(client, cluster, engineer):
    finding = privileged_finding(cluster)
    triage.change_status(finding, FindingStatus.FALSE_POSITIVE, actor=engineer, reason="a test fixture")
    client.force_login(engineer)
    page = client.get(reverse("findings:finding-detail", args=[finding.pk])).text
    assert '<span class="who">erin</span>' in page
    assert "from <strong>open</strong> to <strong>false positive</strong>" in page
    assert "a test fixture" in page


def test_an_engineer_adds_a_comment_and_markup_in_it_is_shown_as_text(client, cluster, engineer):
    finding = privileged_finding(cluster)
    client.force_login(engineer)
    response = client.post(
        reverse("findings:finding-comment", args=[finding.pk]),
        {"body": "Fixed in <script>alert(1)</script> v2"},
    )
    assert response["Location"].endswith("#comments")
    page = client.get(response["Location"]).text
    assert "Fixed in &lt;script&gt;alert(1)&lt;/script&gt; v2" in page
    assert "<script>alert(1)" not in page
    assert Comment.objects.get(finding=finding).author == engineer


def test_an_empty_comment_is_refused_with_a_reason(client, cluster, engineer):
    finding = privileged_finding(cluster)
    client.force_login(engineer)
    response = client.post(
        reverse("findings:finding-comment", args=[finding.pk]), {"body": "   "}, follow=True
    )
    assert "A comment needs some text." in response.text
    assert not Comment.objects.exists()


def test_a_comment_refused_for_its_length_is_kept_in_the_box(client, cluster, engineer):
    finding = privileged_finding(cluster)
    client.force_login(engineer)
    body = "long analysis " * 800
    response = client.post(reverse("findings:finding-comment", args=[finding.pk]), {"body": body})
    assert response.status_code == 400
    assert body.strip() in response.text
    assert not Comment.objects.exists()


def test_a_refused_risk_acceptance_keeps_the_reason_and_date_that_were_typed(client, cluster, engineer):
    finding = privileged_finding(cluster)
    client.force_login(engineer)
    page = client.get(reverse("findings:finding-detail", args=[finding.pk])).text
    first, last = triage.acceptance_dates()
    assert f'name="until" required min="{first}" max="{last}"' in page  # the picker offers valid days only
    too_late = (timezone.localdate() + timedelta(days=400)).isoformat()
    reason = "The vendor ships a fix in Q3 <b>really</b>"
    response = client.post(
        reverse("findings:finding-status", args=[finding.pk]),
        {"to_status": "risk_accepted", "reason": reason, "until": too_late},
    )
    assert response.status_code == 400
    assert "A risk can be accepted for at most 365 days." in response.text
    assert "The vendor ships a fix in Q3 &lt;b&gt;really&lt;/b&gt;</textarea>" in response.text
    assert f'value="{too_late}"' in response.text
    finding.refresh_from_db()
    assert finding.status == FindingStatus.OPEN
    # The browser now shows the form's address; opening it again leads to the finding, not a 405.
    again = client.get(reverse("findings:finding-status", args=[finding.pk]))
    assert (again.status_code, again["Location"]) == (
        302,
        reverse("findings:finding-detail", args=[finding.pk]),
    )


def test_the_status_actions_offer_what_the_transition_table_allows(client, cluster, engineer):
    finding = privileged_finding(cluster)
    client.force_login(engineer)
    page = client.get(reverse("findings:finding-detail", args=[finding.pk])).text
    assert ">Acknowledge</button>" in page
    assert ">Accept risk</button>" in page
    assert ">Mark false positive</button>" in page
    assert ">Reopen</button>" not in page


def test_a_viewer_reads_but_gets_no_actions(client, cluster, viewer):
    finding = privileged_finding(cluster)
    client.force_login(viewer)
    page = client.get(reverse("findings:finding-detail", args=[finding.pk])).text
    assert ">Acknowledge</button>" not in page
    assert "Add a comment" not in page
    assert "engineers of Payments triage them" in page


def test_a_finding_of_a_check_no_longer_in_the_catalogue_still_renders(client, cluster, viewer):
    finding = privileged_finding(cluster)
    Finding.objects.filter(pk=finding.pk).update(check_id="retired-check")
    client.force_login(viewer)
    page = client.get(reverse("findings:finding-detail", args=[finding.pk])).text
    assert "is no longer in Rampart" in page


def test_the_finding_page_queries_a_fixed_number_of_times(
    client, cluster, engineer, django_assert_max_num_queries
):
    finding = privileged_finding(cluster)
    for n in range(5):
        triage.assign(Finding.objects.filter(pk=finding.pk), engineer if n % 2 == 0 else None, actor=engineer)
    client.force_login(engineer)
    with django_assert_max_num_queries(10):
        client.get(reverse("findings:finding-detail", args=[finding.pk]))
