from posture.scanning import engine
from posture.scanning.checks.registry import Category, CheckRegistry, Failure, NotAssessed, Severity, Target
from posture.scanning.inventory import Inventory
from tests.factories import deployment


def _pod(name, owner=None, namespace="shop"):
    metadata = {"name": name, "namespace": namespace}
    if owner:
        metadata["ownerReferences"] = [{"kind": owner[0], "name": owner[1], "controller": True}]
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": metadata,
        "spec": {"containers": [{"name": "app", "image": "app:1", "securityContext": {"privileged": True}}]},
    }


def _privileged_results(*objects):
    results = engine.run(Inventory.from_objects(objects))
    return [r for r in results.findings if r.check_id == "privileged-container"], results


def test_a_pod_owned_by_a_deployment_is_reported_once_through_the_deployment():
    replica_set = {
        "apiVersion": "apps/v1",
        "kind": "ReplicaSet",
        "metadata": {
            "name": "web-7d9",
            "namespace": "shop",
            "ownerReferences": [{"kind": "Deployment", "name": "web", "controller": True}],
        },
        "spec": {
            "template": {"spec": {"containers": [{"name": "web", "securityContext": {"privileged": True}}]}}
        },
    }
    found, results = _privileged_results(
        deployment("web", privileged=True), replica_set, _pod("web-7d9-abc", owner=("ReplicaSet", "web-7d9"))
    )
    assert [(r.kind, r.name) for r in found] == [("Deployment", "web")]
    assert results.evaluated["privileged-container"] == 1


def test_a_pod_whose_owner_was_not_collected_stands_for_itself():
    found, _ = _privileged_results(_pod("orphan", owner=("ReplicaSet", "gone")))
    assert [(r.kind, r.name) for r in found] == [("Pod", "orphan")]


def test_cronjob_pod_templates_are_evaluated():
    cronjob = {
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "metadata": {"name": "nightly", "namespace": "ops"},
        "spec": {
            "jobTemplate": {
                "spec": {
                    "template": {
                        "spec": {"containers": [{"name": "job", "securityContext": {"privileged": True}}]}
                    }
                }
            }
        },
    }
    found, _ = _privileged_results(cronjob)
    assert found[0].path == "spec.jobTemplate.spec.template.spec.containers[0].securityContext.privileged"


def test_an_ignore_annotation_exempts_the_object_but_the_exemption_is_counted():
    exempted = deployment("cni", privileged=True)
    exempted["metadata"]["annotations"] = {
        "rampart.dev/ignore": "privileged-container",
        "rampart.dev/ignore-reason": "the CNI plugin programs the host network",
    }
    found, results = _privileged_results(exempted, deployment("web", privileged=True))
    assert [r.name for r in found] == ["web"]
    assert [(r.name, r.exempt_reason) for r in results.exempted] == [
        ("cni", "the CNI plugin programs the host network")
    ]
    assert results.exempted_evaluations["privileged-container"] == 1
    assert results.evaluated["privileged-container"] == 2


def _registry(*checks, requires=()):
    """A catalogue of ``(id, function)`` or ``(id, function, target)`` checks, in that order."""
    registry = CheckRegistry()
    for check_id, func, *target in checks:
        registry.register(
            id=check_id,
            title=check_id,
            category=Category.NETWORK,
            severity=Severity.LOW,
            target=target[0] if target else Target.WORKLOAD,
            requires=requires,
            description="d",
            remediation="r",
        )(func)
    return registry


def _registry_with(check_func, requires=()):
    return _registry(("test-check", check_func), requires=requires)


def test_a_check_whose_required_kind_could_not_be_read_is_not_assessed():
    registry = _registry_with(lambda w, ctx: [Failure("x")], requires=("NetworkPolicy",))
    inventory = Inventory.from_objects([deployment("web")], coverage_gaps={"NetworkPolicy": "forbidden"})
    results = engine.run(inventory, checks=registry)
    assert results.findings == []
    assert results.not_assessed == {"test-check": "NetworkPolicy: forbidden"}


def test_a_check_that_crashes_on_one_object_does_not_stop_the_others(caplog):
    def flaky(workload, ctx):
        if workload.name == "bad":
            raise KeyError("boom")
        return [Failure("found")]

    results = engine.run(
        Inventory.from_objects([deployment("bad"), deployment("good")]), checks=_registry_with(flaky)
    )
    assert [r.name for r in results.findings] == ["good"]
    assert len(results.errors) == 1
    assert "test-check" in caplog.text


def test_a_check_that_crashes_is_not_assessed_rather_than_passed():
    # A crash must not read as "no problem": that would resolve the check's open findings.
    def flaky(workload, ctx):
        if workload.name == "bad":
            raise KeyError("boom")
        return []

    results = engine.run(
        Inventory.from_objects([deployment("bad"), deployment("good")]), checks=_registry_with(flaky)
    )
    assert results.not_assessed == {
        "test-check": "could not evaluate Deployment shop/bad (an internal error, logged)"
    }
    assert results.evaluated["test-check"] == 1


def test_objects_with_wrongly_typed_fields_do_not_stop_the_scan():
    secret = {
        "apiVersion": "v1",
        "kind": "Secret",
        "type": ["Opaque"],
        "metadata": {"name": "s", "namespace": "shop", "creationTimestamp": "2020-01-01T00:00:00Z"},
    }
    pod = _pod("p")
    pod["metadata"]["ownerReferences"] = [{"kind": ["ReplicaSet"], "name": {"x": 1}, "controller": True}]
    results = engine.run(Inventory.from_objects([secret, pod]))
    assert results.errors == []
    assert "secret-not-rotated" in {r.check_id for r in results.findings}
    assert ("Pod", "p") in {
        (r.kind, r.name) for r in results.findings if r.check_id == "privileged-container"
    }


def test_disabled_checks_do_not_run():
    settings = engine.CheckSettings(disabled=frozenset({"privileged-container"}))
    results = engine.run(Inventory.from_objects([deployment("web", privileged=True)]), settings=settings)
    assert "privileged-container" not in results.evaluated
    assert not any(r.check_id == "privileged-container" for r in results.findings)


def test_findings_come_in_catalogue_order_though_checks_take_turns_on_each_workload():
    # The engine runs the checks of a workload one after another, workload by workload (for
    # speed); what it reports is grouped by check, as the catalogue lists them.
    def first(workload, ctx):
        return [Failure(f"first on {workload.name}")]

    def second(workload, ctx):
        return [Failure(f"second on {workload.name}")]

    results = engine.run(
        Inventory.from_objects([deployment("a"), deployment("b")]),
        checks=_registry(("first", first), ("second", second)),
    )
    assert [r.message for r in results.findings] == ["first on a", "first on b", "second on a", "second on b"]
    assert results.evaluated == {"first": 2, "second": 2}


def test_a_check_that_crashes_on_a_workload_leaves_the_next_check_to_judge_it(caplog):
    def crashes(workload, ctx):
        raise KeyError("boom")

    results = engine.run(
        Inventory.from_objects([deployment("web")]),
        checks=_registry(("first", crashes), ("second", lambda workload, ctx: [Failure("found")])),
    )
    assert [(r.check_id, r.name) for r in results.findings] == [("second", "web")]
    assert "first" in results.not_assessed
    assert "second" not in results.not_assessed


def test_a_cluster_check_registered_between_workload_checks_keeps_its_place_in_the_results():
    registry = _registry(
        ("first", lambda workload, ctx: [Failure("workload")]),
        ("second", lambda inventory, ctx: [Failure("cluster")], Target.CLUSTER),
        ("third", lambda workload, ctx: [Failure("third")]),
    )
    results = engine.run(Inventory.from_objects([deployment("web")]), checks=registry)
    assert [r.message for r in results.findings] == ["workload", "cluster", "third"]


def test_checks_not_assessed_are_listed_in_catalogue_order_whatever_kept_them_from_running():
    # The first lacks a fact while it runs; the second never runs, its kind could not be read.
    def lacks_facts(inventory, ctx):
        raise NotAssessed("no version")

    registry = _registry(
        ("first", lacks_facts, Target.CLUSTER),
        ("second", lambda policy, ctx: [], "NetworkPolicy"),
    )
    inventory = Inventory.from_objects([deployment("web")], coverage_gaps={"NetworkPolicy": "forbidden"})
    results = engine.run(inventory, checks=registry)
    assert results.not_assessed == {"first": "no version", "second": "NetworkPolicy: forbidden"}
    assert list(results.not_assessed) == ["first", "second"]
