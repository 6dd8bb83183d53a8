import re
from datetime import timedelta

import orjson
import pytest
from django.utils import timezone

from findings.models import Finding, FindingStatus
from tests.factories import as_yaml, deployment, make_cluster, scan_snapshot
from tests.ui.conftest import htmx

URL = "/findings/"


def ids_on(page: str) -> list[int]:
    return [int(pk) for pk in re.findall(r'<tr id="finding-(\d+)"', page)]


def test_the_list_shows_the_demo_clusters_findings_worst_first(client, demo, demo_viewer):
    client.force_login(demo_viewer)
    page = client.get(URL).text
    shown = ids_on(page)
    assert len(shown) == 50  # one page
    ranks = {"critical": 4, "high": 3, "medium": 2, "low": 1, "info": 0}
    severities = [Finding.objects.get(pk=pk).severity for pk in shown]
    assert [ranks[s] for s in severities] == sorted((ranks[s] for s in severities), reverse=True)


def test_severity_sorts_by_rank_not_alphabetically(client, demo, demo_viewer):
    client.force_login(demo_viewer)
    pks = ids_on(client.get(URL, {"severity": ["info", "low", "medium", "high"]}).text)
    seen = []
    for pk in pks:
        severity = Finding.objects.get(pk=pk).severity
        if not seen or seen[-1] != severity:
            seen.append(severity)
    assert seen == [s for s in ["high", "medium", "low", "info"] if s in seen]


@pytest.mark.parametrize(
    ("sort", "field", "reverse"),
    [
        ("last_seen", "last_seen_at", True),
        ("first_seen", "first_seen_at", True),
        ("oldest", "first_seen_at", False),
        ("due", "due_at", False),
    ],
)
def test_the_list_sorts_by_dates(client, demo, demo_viewer, sort, field, reverse):
    client.force_login(demo_viewer)
    pks = ids_on(client.get(URL, {"sort": sort, "status": "open"}).text)
    values = [getattr(Finding.objects.get(pk=pk), field) for pk in pks]
    assert values == sorted(values, reverse=reverse)


def test_the_table_caption_names_the_sort_in_words(client, demo, demo_viewer):
    client.force_login(demo_viewer)
    page = client.get(URL).text
    assert '<caption class="visually-hidden">Findings, sorted by severity, worst first</caption>' in page
    page = client.get(URL, {"sort": "first_seen"}).text
    assert '<caption class="visually-hidden">Findings, sorted by first seen, newest first</caption>' in page
    assert "first_seen</caption>" not in page


def test_each_filter_narrows_the_list(client, demo, demo_viewer):
    client.force_login(demo_viewer)
    some = Finding.objects.filter(cluster=demo).exclude(namespace="").first()
    cases = {
        "namespace": ({"namespace": some.namespace}, lambda f: f.namespace == some.namespace),
        "check": ({"check_id": some.check_id}, lambda f: f.check_id == some.check_id),
        "category": ({"category": some.category}, lambda f: f.category == some.category),
        "status": ({"status": "resolved"}, lambda f: f.status == "resolved"),
        "cluster": ({"cluster": demo.pk}, lambda f: f.cluster_id == demo.pk),
        "search": ({"q": some.name}, lambda f: some.name in (f.name + f.namespace + f.message + f.check_id)),
    }
    for name, (params, holds) in cases.items():
        pks = ids_on(client.get(URL, params).text)
        assert pks, name
        assert all(holds(Finding.objects.get(pk=pk)) for pk in pks), name


def test_the_namespace_field_suggests_the_namespaces_of_the_latest_scans(client, demo, demo_viewer):
    client.force_login(demo_viewer)
    page = client.get(URL).text
    suggested = re.findall(
        r'<option value="([^"]+)">',
        page.split('<datalist id="namespace-choices">')[1].split("</datalist>")[0],
    )
    assert suggested == sorted(name for name in demo.last_scan.counts_by_namespace if name)
    assert len(suggested) > 1


def test_search_finds_what_the_object_column_shows_and_cluster_names(client, demo, demo_viewer, platform):
    client.force_login(demo_viewer)
    some = Finding.objects.filter(cluster=demo, kind="Deployment").exclude(namespace="").first()
    shown = f"Deployment {some.namespace}/{some.name}"  # as the Object column writes it
    pks = ids_on(client.get(URL, {"q": shown, "check_id": some.check_id}).text)
    assert some.pk in pks
    for pasted in (
        f"{shown} [{some.container}]" if some.container else shown,  # the whole cell
        f"deployment {some.namespace.upper()}/{some.name}",  # kind and namespace in any case
        f"Deployment/{some.namespace}/{some.name}",  # as scan_manifests prints it
    ):
        found = Finding.objects.filter(
            pk__in=ids_on(client.get(URL, {"q": pasted, "check_id": some.check_id}).text)
        )
        assert some.pk in found.values_list("pk", flat=True), pasted
        assert set(found.values_list("kind", flat=True)) == {"Deployment"}, (
            pasted
        )  # a Service of that name is not
    assert all(
        (finding.namespace, finding.name) == (some.namespace, some.name)
        or some.name in finding.name
        or shown.lower() in (finding.message + finding.check_id).lower()
        for finding in Finding.objects.filter(pk__in=pks)
    )
    other = make_cluster(platform, name="edge-lab")
    scan_snapshot(other, as_yaml(deployment("probe", privileged=True)))
    by_cluster = ids_on(client.get(URL, {"q": "edge-lab"}).text)
    assert by_cluster
    assert set(Finding.objects.filter(pk__in=by_cluster).values_list("cluster_id", flat=True)) == {other.pk}


def test_the_framework_filter_keeps_the_checks_that_map_to_it(client, demo, demo_viewer):
    from findings.summary import frameworks_of
    from posture.scanning.checks import load_catalogue

    in_baseline = {check.id for check in load_catalogue() if "pss-baseline" in frameworks_of(check)}
    client.force_login(demo_viewer)
    pks = ids_on(client.get(URL, {"framework": "pss-baseline"}).text)
    assert pks
    assert {Finding.objects.get(pk=pk).check_id for pk in pks} <= in_baseline


def test_assignee_filters_find_mine_and_unassigned(client, demo, demo_engineer):
    mine = list(Finding.objects.filter(cluster=demo).order_by("pk")[:3])
    Finding.objects.filter(pk__in=[f.pk for f in mine]).update(assignee=demo_engineer)
    client.force_login(demo_engineer)
    assert sorted(ids_on(client.get(URL, {"assignee": "me"}).text)) == [f.pk for f in mine]
    assert sorted(ids_on(client.get(URL, {"assignee": demo_engineer.pk}).text)) == [f.pk for f in mine]
    assert not set(ids_on(client.get(URL, {"assignee": "none"}).text)) & {f.pk for f in mine}


def test_the_overdue_filter_shows_open_findings_past_their_due_date(client, demo, demo_viewer):
    late = Finding.objects.filter(cluster=demo, status=FindingStatus.OPEN).first()
    Finding.objects.filter(pk=late.pk).update(due_at=timezone.now() - timedelta(days=2))
    client.force_login(demo_viewer)
    page = client.get(URL, {"overdue": "true"}).text
    assert ids_on(page) == [late.pk]
    assert '<span class="overdue">overdue</span>' in page


def test_first_seen_dates_bound_the_list(client, demo, demo_viewer):
    oldest = Finding.objects.filter(cluster=demo).order_by("first_seen_at").first().first_seen_at
    newest = Finding.objects.filter(cluster=demo).order_by("-first_seen_at").first().first_seen_at
    client.force_login(demo_viewer)
    day = timezone.localdate(newest).isoformat()
    pks = ids_on(client.get(URL, {"first_seen_after": day}).text)
    assert pks
    assert all(timezone.localdate(Finding.objects.get(pk=pk).first_seen_at).isoformat() >= day for pk in pks)
    before = timezone.localdate(oldest).isoformat()
    pks = ids_on(client.get(URL, {"first_seen_before": before}).text)
    assert pks
    assert all(
        timezone.localdate(Finding.objects.get(pk=pk).first_seen_at).isoformat() <= before for pk in pks
    )


def test_pages_carry_the_filters(client, demo, demo_viewer):
    client.force_login(demo_viewer)
    first = client.get(URL, {"status": "open", "sort": "last_seen"}).text
    assert "status=open&amp;sort=last_seen&amp;page=2" in first
    second = client.get(URL, {"status": "open", "sort": "last_seen", "page": 2}).text
    assert set(ids_on(first)).isdisjoint(ids_on(second))


def test_the_filtered_findings_download_as_csv_from_the_list(client, demo, demo_viewer):
    client.force_login(demo_viewer)
    filters = {"severity": "high", "status": "open", "sort": "last_seen", "page": 1}
    page = client.get(URL, filters).text
    link = re.search(r'href="([^"]+)" download>CSV</a>', page).group(1).replace("&amp;", "&")
    assert "page=" not in link  # every matching finding, not the page on screen
    download = client.get(link)
    assert download.status_code == 200
    assert download["Content-Type"].startswith("text/csv")
    rows = b"".join(download.streaming_content).decode().splitlines()
    expected = Finding.objects.filter(cluster__team=demo.team, severity="high", status="open")
    assert rows[0].startswith("id,cluster,cluster_name,check_id,severity")
    assert sorted(int(row.split(",")[0]) for row in rows[1:]) == sorted(expected.values_list("pk", flat=True))
    json_link = re.search(r'href="([^"]+)" download>JSON</a>', page).group(1).replace("&amp;", "&")
    exported = orjson.loads(b"".join(client.get(json_link).streaming_content))
    assert {item["severity"] for item in exported} == {"high"}


def test_a_page_past_the_end_or_not_a_number_shows_a_page_instead_of_an_error(client, demo, demo_viewer):
    client.force_login(demo_viewer)
    last = client.get(URL, {"status": "open", "page": 999})
    assert last.status_code == 200
    assert "page 1 of" not in last.text
    assert ids_on(last.text)
    for junk in ("0", "-1", "abc"):
        first = client.get(URL, {"status": "open", "page": junk})
        assert first.status_code == 200
        assert ids_on(first.text) == ids_on(client.get(URL, {"status": "open"}).text), junk


def test_filtering_through_htmx_returns_the_results_and_the_form_pushes_the_url(client, demo, demo_viewer):
    client.force_login(demo_viewer)
    full = client.get(URL).text
    assert 'hx-push-url="true"' in full
    response = client.get(URL, {"severity": "critical"}, **htmx())
    assert response.text.lstrip().startswith('<div id="results">')
    assert "<html" not in response.text
    assert "HX-Request" in response.headers["Vary"]


def test_a_bad_filter_value_says_so_instead_of_failing(client, demo, demo_viewer):
    client.force_login(demo_viewer)
    response = client.get(URL, {"first_seen_after": "not-a-date"})
    assert response.status_code == 200
    assert "<p>First seen on or after: Enter a valid date.</p>" in response.text  # its label, not its name
    unknown = client.get(URL, {"category": "bogus"})
    assert (
        "<p>Category: Select a valid choice. bogus is not one of the available choices.</p>" in unknown.text
    )


def test_an_empty_result_offers_to_clear_the_filters(client, demo, demo_viewer):
    client.force_login(demo_viewer)
    page = client.get(URL, {"q": "no-such-thing-anywhere"}).text
    assert "No findings match these filters" in page


def test_with_nothing_scanned_the_list_explains_why_it_is_empty(client, viewer, cluster):
    client.force_login(viewer)
    assert "Nothing has failed a check in your clusters yet" in client.get(URL).text


def test_viewers_get_no_triage_controls(client, demo, demo_viewer):
    client.force_login(demo_viewer)
    page = client.get(URL).text
    assert 'id="bulk"' not in page
    assert 'name="ids"' not in page
    assert ">Acknowledge</button>" not in page


def test_engineers_get_bulk_and_row_actions(client, demo, demo_engineer):
    client.force_login(demo_engineer)
    page = client.get(URL).text
    assert 'id="bulk"' in page
    assert page.count('name="ids"') == 50
    assert 'hx-target="closest tr"' in page
    assert "eve" in page  # assignable


def test_other_teams_findings_are_not_listed(client, demo, stranger):
    client.force_login(stranger)
    assert ids_on(client.get(URL).text) == []


def test_the_list_does_not_query_per_row(client, demo, demo_engineer, team, django_assert_max_num_queries):
    for n in range(3):
        scan_snapshot(make_cluster(team, name=f"x{n}"), as_yaml(deployment(f"app{n}", privileged=True)))
    client.force_login(demo_engineer)
    with django_assert_max_num_queries(10):
        page = client.get(URL).text
    assert len(ids_on(page)) == 50
    with django_assert_max_num_queries(10):
        client.get(
            URL, {"severity": ["critical", "high"], "overdue": "true", "framework": "cis", "sort": "due"}
        )


def test_the_count_is_exact_for_small_results(client, demo, demo_viewer):
    client.force_login(demo_viewer)
    total = Finding.objects.filter(cluster=demo).count()
    assert f"{total} findings" in client.get(URL).text.replace(",", "")


def test_the_back_button_gets_the_whole_page_not_the_partial(client, demo, demo_viewer):
    client.force_login(demo_viewer)
    response = client.get(URL, {"severity": "critical"}, **htmx(**{"HX-History-Restore-Request": "true"}))
    assert "<html" in response.text
    assert 'id="filters"' in response.text


HOSTILE = '<img src=x onerror="alert(1)">'


def test_names_from_a_cluster_are_shown_as_text_in_every_row_and_control(client, team, engineer):
    # Object and container names come from the scanned cluster: whoever can deploy there can
    # choose them. The rows are drawn in Python (findings/templatetags/finding_rows.py), so this
    # is the escaping that matters.
    cluster = make_cluster(team, name=f"prod {HOSTILE}")
    workload = deployment(f"web{HOSTILE}", namespace=f"shop{HOSTILE}", privileged=True)
    workload["spec"]["template"]["spec"]["containers"][0]["name"] = f"app{HOSTILE}"
    scan_snapshot(cluster, as_yaml(workload))
    assert Finding.objects.filter(cluster=cluster, name=f"web{HOSTILE}").exists()
    client.force_login(engineer)
    for url in (URL, "/", "/clusters/"):
        page = client.get(url).text
        assert "<img src=x" not in page, url
        assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in page, url


def test_the_navigation_opens_the_findings_that_need_work(client, demo, demo_viewer):
    client.force_login(demo_viewer)
    page = client.get("/").text
    assert 'href="/findings/?status=open&amp;status=acknowledged"' in page  # as the overview's figures count


def test_an_exceptions_held_findings_say_which_exception_and_how_to_see_all(client, viewer, cluster):
    client.force_login(viewer)
    page = client.get(URL, {"status": "risk_accepted", "exception": "7"}).text
    assert "Held by exception #7" in page
    assert '<input type="hidden" name="exception" value="7">' in page
    assert f'<a href="{URL}?status=risk_accepted">show all findings</a>' in page


def test_a_due_date_shows_only_on_findings_that_still_need_work(client, demo, demo_viewer):
    late = timezone.now() - timedelta(days=2)
    need_work, accepted = Finding.objects.filter(cluster=demo, status=FindingStatus.OPEN)[:2]
    Finding.objects.filter(pk__in=[need_work.pk, accepted.pk]).update(due_at=late)
    Finding.objects.filter(pk=accepted.pk).update(
        status=FindingStatus.RISK_ACCEPTED, risk_accepted_until=timezone.now() + timedelta(days=30)
    )
    client.force_login(demo_viewer)
    page = client.get(URL, {"status": ["open", "risk_accepted"], "sort": "due"}).text
    row = {pk: page.split(f'id="finding-{pk}"')[1].split("</tr>")[0] for pk in (need_work.pk, accepted.pk)}
    day = timezone.localtime(late).strftime("%Y-%m-%d")
    assert '<span class="overdue">overdue</span>' in row[need_work.pk]
    assert day in row[need_work.pk]
    assert day not in row[accepted.pk]
    assert "overdue" not in row[accepted.pk]
