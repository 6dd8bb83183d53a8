import gzip

import orjson
import pytest

from posture.scanning import engine
from posture.scanning.collectors.snapshot import (
    SnapshotError,
    SnapshotTooLarge,
    _split_documents,
    read_bytes,
    read_paths,
)
from posture.scanning.inventory import Inventory
from tests.factories import as_json_list, as_yaml, deployment


def test_it_reads_every_document_of_a_multi_document_yaml_file():
    snapshot = read_bytes(as_yaml(deployment("a"), deployment("b"), deployment("c")), "app.yaml")
    assert [obj["metadata"]["name"] for obj in snapshot.objects] == ["a", "b", "c"]
    assert snapshot.errors == []


def test_it_reads_a_kubectl_list_document():
    snapshot = read_bytes(as_json_list(deployment("a"), deployment("b")), "dump.json")
    assert [obj["kind"] for obj in snapshot.objects] == ["Deployment", "Deployment"]


def test_it_gives_kind_and_api_version_to_items_of_an_api_list_that_lack_them():
    api_list = {
        "apiVersion": "apps/v1",
        "kind": "DeploymentList",
        "items": [{"metadata": {"name": "web", "namespace": "shop"}, "spec": {}}],
    }
    snapshot = read_bytes(orjson.dumps(api_list), "deployments.json")
    assert snapshot.objects[0]["kind"] == "Deployment"
    assert snapshot.objects[0]["apiVersion"] == "apps/v1"


def test_it_reads_gzip_compressed_snapshots():
    snapshot = read_bytes(gzip.compress(as_json_list(deployment("a"))), "dump.json.gz")
    assert len(snapshot.objects) == 1


def test_documents_split_only_at_lines_that_are_document_markers():
    data = (
        b"---\nkind: A\n--- # next\nkind: B\n----\n...\nkind: C\n--- x\nkind: D\n  ---\n...\t\nkind: E\n---"
    )
    assert list(_split_documents(data)) == [  # a marker's line break starts the next document
        b"",
        b"\nkind: A\n",
        b"\nkind: B\n----\n",  # four dashes is content
        b"\nkind: C\n--- x\nkind: D\n  ---\n",  # a marker with content, an indented one: content
        b"\nkind: E\n",
        b"",
    ]


def test_it_reports_a_malformed_document_by_number_and_reads_the_rest():
    data = as_yaml(deployment("a")) + b"---\nkind: [unclosed\n---\n" + as_yaml(deployment("c"))
    snapshot = read_bytes(data, "mixed.yaml")
    assert [obj["metadata"]["name"] for obj in snapshot.objects] == ["a", "c"]
    assert len(snapshot.errors) == 1
    assert snapshot.errors[0].file == "mixed.yaml"
    assert snapshot.errors[0].document == 2
    assert "invalid YAML" in snapshot.errors[0].reason


def test_a_malformed_document_is_reported_at_its_line_in_the_file_not_in_the_document():
    data = as_yaml(deployment("a")) + b"---\nkind: Deployment\nmetadata:\n  name: b\n bad: indent\n"
    broken_line = data.split(b"\n").index(b" bad: indent") + 1
    assert broken_line > 5  # past the first document: a document's own count would say 4
    snapshot = read_bytes(data, "two.yaml")
    assert [(error.document, error.reason) for error in snapshot.errors] == [
        (2, f"invalid YAML: did not find expected key (line {broken_line} of the file)")
    ]


HELM_TEMPLATE = b"""apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ include "shop.fullname" . }}
  labels:
    {{- include "shop.labels" . | nindent 4 }}
"""
QUOTED_TEMPLATE = b"""apiVersion: v1
kind: Service
metadata:
  name: "{{ .Release.Name }}-web"
spec:
  type: LoadBalancer
"""
ALERT_RULES = b"""apiVersion: monitoring.coreos.com/v1
kind: PrometheusRule
metadata:
  name: node-alerts
spec:
  groups:
    - name: nodes
      rules:
        - alert: NodeDown
          annotations:
            summary: "{{ $labels.instance }} is down"
"""


def test_an_unrendered_helm_template_is_said_to_be_one_and_the_rest_is_read():
    data = as_yaml(deployment("a")) + b"---\n" + HELM_TEMPLATE + b"---\n" + QUOTED_TEMPLATE
    data += b"---\n" + ALERT_RULES
    snapshot = read_bytes(data, "chart.yaml")

    assert [obj["metadata"]["name"] for obj in snapshot.objects] == ["a", "node-alerts"]
    template_line = data.split(b"\n").index(b'  name: {{ include "shop.fullname" . }}') + 1
    render = "render it first, e.g. with `helm template`"
    assert [(error.document, error.reason) for error in snapshot.errors] == [
        (2, f"an unrendered Helm or Go template ('{{{{' on line {template_line} of the file): {render}"),
        (3, f"an unrendered Helm or Go template (its name is '{{{{ .Release.Name }}}}-web'): {render}"),
    ]
    assert [origin.document for origin in snapshot.origins] == [1, 4]


def test_it_skips_documents_that_are_not_kubernetes_objects():
    snapshot = read_bytes(b"just: config\n---\n- a\n- list\n---\n" + as_yaml(deployment("a")), "x.yaml")
    assert len(snapshot.objects) == 1
    assert snapshot.skipped == 2
    assert snapshot.errors == []


def test_it_reports_a_binary_file_instead_of_parsing_it():
    snapshot = read_bytes(b"\x7fELF\x00\x00\x01binary", "ls")
    assert snapshot.objects == []
    assert "binary" in snapshot.errors[0].reason


def test_it_refuses_a_gzip_bomb_beyond_the_limit():
    bomb = gzip.compress(b" " * (3 * 1024 * 1024))
    with pytest.raises(SnapshotTooLarge):
        read_bytes(bomb, "bomb.gz", max_bytes=1024 * 1024)


def test_it_reads_directories_recursively_and_only_manifest_files(tmp_path):
    (tmp_path / "nested").mkdir()
    (tmp_path / "a.yaml").write_bytes(as_yaml(deployment("a")))
    (tmp_path / "nested" / "b.json").write_bytes(as_json_list(deployment("b")))
    (tmp_path / "README.md").write_text("# not a manifest")
    snapshot = read_paths([tmp_path])
    assert sorted(obj["metadata"]["name"] for obj in snapshot.objects) == ["a", "b"]
    assert snapshot.files == 2


def test_a_missing_path_is_an_error_for_the_user(tmp_path):
    with pytest.raises(SnapshotError, match="no such file"):
        read_paths([tmp_path / "missing.yaml"])


def test_timestamps_in_yaml_stay_strings_as_in_the_api():
    secret = b"kind: Secret\napiVersion: v1\nmetadata: {name: s, creationTimestamp: 2024-01-01T00:00:00Z}\n"
    snapshot = read_bytes(secret, "secret.yaml")
    assert snapshot.objects[0]["metadata"]["creationTimestamp"] == "2024-01-01T00:00:00Z"


def test_yaml_is_typed_as_kubernetes_types_it_so_y_is_a_privileged_container():
    # kubectl reads "y" as true (go-yaml v2); PyYAML alone would read the string "y" and miss both.
    manifest = b"""apiVersion: v1
kind: Pod
metadata: {name: p, namespace: team}
spec:
  hostNetwork: Y
  containers:
  - name: c
    image: nginx
    securityContext: {privileged: y}
"""
    snapshot = read_bytes(manifest, "pod.yaml")
    results = engine.run(Inventory.from_objects(snapshot.objects, source="manifests"))
    assert {"privileged-container", "host-network"} <= {finding.check_id for finding in results.findings}


def test_a_lone_surrogate_escape_in_json_reads_as_the_replacement_character():
    pair_and_lone = (
        b'{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a\\ud83d\\ude00b\\udc00"}}'
    )
    snapshot = read_bytes(pair_and_lone, "cm.json")
    assert snapshot.objects[0]["metadata"]["name"] == "a\U0001f600b\ufffd"


def test_gzip_with_corrupt_data_is_reported_not_raised():
    data = gzip.compress(b'{"apiVersion": "v1", "kind": "List", "items": []}' * 50)
    corrupt = data[:10] + b"\xff" * 4 + data[14:]  # a valid header, then an invalid deflate block
    snapshot = read_bytes(corrupt, "dump.json.gz")
    [error] = snapshot.errors
    assert error.reason.startswith("not a valid gzip file")


def test_a_secret_value_copied_into_an_annotation_is_not_kept():
    token = "eyJhbGciOiJSUzI1NiIsImtpZCI6IkFCQyJ9.eyJzdWIiOiJzeXN0ZW06c2EifQ.c2lnbmF0dXJlLXZhbHVl"
    secret = {
        "apiVersion": "v1",
        "kind": "Secret",
        "type": "kubernetes.io/dockercfg",
        "metadata": {
            "name": "builder-dockercfg-x1",
            "namespace": "shop",
            "annotations": {
                "openshift.io/token-secret.value": token,
                "kubernetes.io/service-account.name": "builder",
                "team": "payments",
            },
        },
    }
    [stored] = read_bytes(as_json_list(secret), "secrets.json").objects
    assert stored["metadata"]["annotations"] == {
        "openshift.io/token-secret.value": "",
        "kubernetes.io/service-account.name": "builder",
        "team": "payments",
    }


def test_each_object_knows_the_file_document_and_line_it_starts_on():
    data = (
        b"# app.yaml\n"  # 1
        b"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n"  # 2-4
        b"---\n"  # 5
        b"\n# the second one\n"  # 6-7
        b"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: b}\n"  # 8-10
        b"--- # a list\n"  # 11
        b"apiVersion: v1\nkind: List\nitems:\n"  # 12-14
        b"- {apiVersion: v1, kind: ConfigMap, metadata: {name: c}}\n"
        b"- {apiVersion: v1, kind: ConfigMap, metadata: {name: d}}\n"
    )
    snapshot = read_bytes(data, "k8s/app.yaml")

    names = [obj["metadata"]["name"] for obj in snapshot.objects]
    assert dict(zip(names, map(tuple, snapshot.origins), strict=True)) == {
        "a": ("k8s/app.yaml", 1, 2),
        "b": ("k8s/app.yaml", 2, 8),
        "c": ("k8s/app.yaml", 3, 12),  # a List's items: where the List starts
        "d": ("k8s/app.yaml", 3, 12),
    }


def test_items_of_a_json_list_know_their_own_line():
    # As kubectl writes it: indented, each item opening on a line of its own.
    listing = {"apiVersion": "v1", "kind": "List", "items": [deployment("a"), deployment("b")]}
    data = orjson.dumps(listing, option=orjson.OPT_INDENT_2)
    snapshot = read_bytes(data, "dump.json")

    item_lines = [number for number, line in enumerate(data.decode().split("\n"), start=1) if line == "    {"]
    assert len(item_lines) == 2
    assert [origin.line for origin in snapshot.origins] == item_lines
    assert {(origin.file, origin.document) for origin in snapshot.origins} == {("dump.json", 1)}
