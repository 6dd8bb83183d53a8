"""The fast YAML loader reads every document exactly as PyYAML's safe loader does.

The reference is PyYAML itself (its C loader minus the timestamp resolver, as
Rampart reads Kubernetes YAML): the same values, of the same types (True is not
1 here), the same key order, and the same errors.
"""

import pytest
import yaml

from posture.scanning.collectors import yaml_documents
from posture.scanning.collectors.snapshot import _split_documents
from posture.scanning.collectors.yaml_documents import KubernetesLoader, load_document
from tests.corpus import CORPUS


class _PyYAMLOnly(yaml.CSafeLoader):
    pass


_PyYAMLOnly.yaml_implicit_resolvers = KubernetesLoader.yaml_implicit_resolvers


def reference(chunk):
    return yaml.load(chunk, Loader=_PyYAMLOnly)  # noqa: S506 - a safe loader


def assert_identical(got, expected, where="document"):
    assert type(got) is type(expected), f"{where}: {type(got).__name__} != {type(expected).__name__}"
    if isinstance(expected, dict):
        assert list(got) == list(expected), f"{where}: keys differ"
        for (key, value), (expected_key, expected_value) in zip(got.items(), expected.items(), strict=True):
            assert_identical(key, expected_key, f"{where} key {expected_key!r}")
            assert_identical(value, expected_value, f"{where}.{expected_key}")
    elif isinstance(expected, list):
        assert len(got) == len(expected), f"{where}: lengths differ"
        for index, (item, expected_item) in enumerate(zip(got, expected, strict=True)):
            assert_identical(item, expected_item, f"{where}[{index}]")
    elif isinstance(expected, float) and expected != expected:
        assert got != got, f"{where}: NaN expected"
    else:
        assert got == expected, f"{where}: {got!r} != {expected!r}"


SCALARS = """\
bools: [yes, No, ON, off, true, False, y, n]
octal: 0777
leading_zero: 08
sexagesimal: 1:20
underscored: 1_000
hex: 0x1F
binary: 0b101
exponent: 1e3
float: 1.5e+3
dot: -.5
infinity: -.inf
not_a_number: .nan
nulls: [~, null, Null, ""]
timestamp: 2024-01-01T00:00:00Z
date: 2001-12-14
quoted: ["yes", '0777', "1e3"]
80: an integer key
true: a boolean key
? complex plain key
: value
folded: >
  two
  lines
literal: |
  kept
  as is
explicit_core_tags: [!!str 12, !!int "12", !!float "1", !!bool "yes", !!null ""]
duplicate: first
duplicate: last
"""

LEFT_TO_PYYAML = [
    "base: &base {a: 1}\nderived:\n  <<: *base\n  b: 2\n",  # anchors and a merge key
    "list: &l [1, 2]\nagain: *l\n",
    "=: a value key\n",
    "data: !!binary aGVsbG8=\n",
    "when: !!timestamp 2001-12-14\n",
    "members: !!set {a, b}\n",
    "ordered: !!omap [a: 1, b: 2]\n",
]

ERRORS = [
    "? [1, 2]\n: an unhashable key\n",
    "? {a: 1}\n: an unhashable key\n",
    "value: !custom tag\n",
    "alias: *nowhere\n",
    "a: b: c\n",
    "- a\nb: c\n",
    "n: !!int nope\n",
]


def test_core_scalars_resolve_exactly_as_in_pyyaml():
    assert_identical(load_document(SCALARS), reference(SCALARS))
    assert_identical(load_document(SCALARS.encode()), reference(SCALARS.encode()))


def test_values_that_yaml_1_1_reads_differently_from_1_2_keep_the_1_1_reading():
    # What Kubernetes itself does (its YAML reader follows 1.1 for these).
    document = load_document(SCALARS)
    assert document["bools"][:4] == [True, False, True, False]
    assert document["octal"] == 511
    assert document["sexagesimal"] == 80
    assert document["exponent"] == "1e3"
    assert document["timestamp"] == "2024-01-01T00:00:00Z"


@pytest.mark.parametrize("text", LEFT_TO_PYYAML)
def test_documents_beyond_the_core_tags_are_read_by_pyyaml(text):
    assert_identical(load_document(text), reference(text))


def test_an_alias_is_the_same_object_as_its_anchor_as_in_pyyaml():
    document = load_document("list: &l [1, 2]\nagain: *l\nlabels: &m {app: web}\nselector: *m\n")
    assert document["again"] is document["list"]
    assert document["selector"] is document["labels"]


def test_a_structure_that_contains_itself_is_built_as_pyyaml_builds_it():
    document = load_document("loop: &a [1, *a]\n")
    assert document["loop"][1] is document["loop"]


@pytest.mark.parametrize("text", ERRORS)
def test_errors_are_pyyamls_own(text):
    with pytest.raises((yaml.YAMLError, ValueError)) as expected:
        reference(text)
    with pytest.raises(type(expected.value)) as got:
        load_document(text)
    assert str(got.value) == str(expected.value)


@pytest.mark.parametrize("text", ["", "# only a comment\n", "---\n", "just a scalar\n", "[1, 2]\n"])
def test_empty_and_non_mapping_documents(text):
    assert_identical(load_document(text), reference(text))


def test_nesting_as_deep_as_the_parser_allows_reads_as_in_pyyaml():
    depth = 900  # libyaml refuses 1,000; building this recursively would exceed Python's stack
    text = "kind: Deployment\nspec: " + "[" * depth + "]" * depth + "\n"
    assert_identical(load_document(text), reference(text))


def test_a_plain_manifest_never_reaches_pyyamls_constructor(monkeypatch):
    def refuse(self, node):
        raise AssertionError("the generic constructor was used")

    monkeypatch.setattr(KubernetesLoader, "construct_document", refuse)
    manifest = b"apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, labels: {app: web}}\n"
    assert load_document(manifest)["metadata"]["labels"] == {"app": "web"}
    # As yaml.dump writes a labels dict shared with the selector:
    anchored = b"kind: Deployment\nmetadata:\n  labels: &id001 {app: web}\nspec:\n  selector: *id001\n"
    assert load_document(anchored)["spec"]["selector"] == {"app": "web"}


def test_the_scalar_cache_is_bounded(monkeypatch):
    monkeypatch.setattr(yaml_documents, "_MAX_RESOLVED", 10)
    monkeypatch.setattr(KubernetesLoader, "_resolved", {})
    load_document("\n".join(f"key{i}: value{i}" for i in range(40)))
    assert len(KubernetesLoader._resolved) <= 10


CORPUS_FILES = sorted(path for path in CORPUS.rglob("*") if path.suffix in (".yaml", ".yml"))


@pytest.mark.skipif(not CORPUS_FILES, reason=f"the shared corpus is not at {CORPUS}")
def test_every_document_of_the_shared_corpus_reads_as_in_pyyaml():
    compared = 0
    for path in CORPUS_FILES:
        for number, chunk in enumerate(_split_documents(path.read_bytes()), start=1):
            try:
                expected = reference(chunk)
            except (yaml.YAMLError, ValueError, RecursionError) as error:
                with pytest.raises(type(error)):
                    load_document(chunk)
                continue
            assert_identical(load_document(chunk), expected, f"{path.name} document {number}")
            compared += 1
    assert compared > 1000
