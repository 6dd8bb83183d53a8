"""YAML is read as Kubernetes reads it, and the fast builder changes nothing of that.

Scalar types follow Kubernetes' YAML reader (go-yaml v2 under sigs.k8s.io/yaml).
The fast builder is compared with PyYAML's own constructor under the same loader:
the same values, of the same types (True is not 1 here), the same key order, and
the same errors.
"""

import math

import pytest
import yaml

from posture.scanning.collectors import yaml_documents
from posture.scanning.collectors.snapshot import _split_documents
from posture.scanning.collectors.yaml_documents import KubernetesLoader, load_document
from tests.corpus import CORPUS


def reference(chunk):
    """PyYAML's generic constructor, with the same scalar typing."""
    return yaml.load(chunk, Loader=KubernetesLoader)  # noqa: S506 - a safe loader


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


def test_the_fast_builder_types_scalars_as_pyyamls_constructor_does():
    assert_identical(load_document(SCALARS), reference(SCALARS))
    assert_identical(load_document(SCALARS.encode()), reference(SCALARS.encode()))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # Booleans: go-yaml v2's list, y and n included (PyYAML would read "y" as a string).
        ("y", True),
        ("Y", True),
        ("yes", True),
        ("On", True),
        ("TRUE", True),
        ("n", False),
        ("N", False),
        ("no", False),
        ("OFF", False),
        ("False", False),
        ("yES", "yES"),
        ("tRue", "tRue"),
        # Integers: Go's ParseInt with base prefixes, underscores removed.
        ("0777", 511),
        ("+0777", 511),
        ("0o17", 15),
        ("0O17", 15),
        ("0x1F", 31),
        ("-0x1F", -31),
        ("0b101", 5),
        ("1_000", 1000),
        ("0", 0),
        ("-12", -12),
        ("18446744073709551615", 2**64 - 1),
        ("-9223372036854775808", -(2**63)),
        # Floats: YAML's syntax, exponents without a dot included.
        ("1e3", 1000.0),
        ("1.5e+3", 1500.0),
        ("-.5", -0.5),
        (".5", 0.5),
        ("08", 8.0),
        ("99999999999999999999", 1e20),
        ("-.inf", float("-inf")),
        # Strings: no base 60, no leading underscore, no value key, timestamps as written.
        ("1:20", "1:20"),
        ("190:20:30", "190:20:30"),
        ("_1", "_1"),
        ("=", "="),
        ("0x", "0x"),
        ("1e400", "1e400"),
        ("9" * 5000, "9" * 5000),  # beyond 64 bits and beyond a float: Go gives up, so a string
        ("-.nan", "-.nan"),
        ("2024-01-01T00:00:00Z", "2024-01-01T00:00:00Z"),
        ("2001-12-14", "2001-12-14"),
        # Nulls.
        ("~", None),
        ("null", None),
        ("NULL", None),
        ("", None),
    ],
)
def test_plain_scalars_are_typed_as_kubernetes_types_them(text, expected):
    value = load_document(f"value: {text}\n")["value"]
    assert type(value) is type(expected)
    assert value == expected


def test_not_a_number_is_a_float_nan():
    assert math.isnan(load_document("value: .NaN\n")["value"])


def test_quoted_scalars_stay_strings():
    assert load_document("a: 'y'\nb: \"0777\"\nc: 'true'\n") == {"a": "y", "b": "0777", "c": "true"}


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


def _laughs(levels: int) -> str:
    lines = ["kind: ConfigMap", "data:", '  a0: &a0 "lol"']
    lines += [f"  a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, levels + 1)]
    return "\n".join(lines) + "\n"


def test_aliases_that_expand_to_millions_of_values_are_refused():
    # 500 bytes that would expand to 10^8 values once stored as JSON or walked by the checks.
    with pytest.raises(yaml.YAMLError, match="aliases expand the document by more than 1,000,000 values"):
        load_document(_laughs(8))
    merged_first = _laughs(8).replace("data:\n", "data:\n  m: {<<: {x: 1}}\n")  # left to PyYAML's constructor
    with pytest.raises(yaml.YAMLError, match="aliases expand"):
        load_document(merged_first)
    reused = load_document(_laughs(4))  # 10,000 values: reuse, not a bomb
    assert len(reused["data"]["a4"]) == 10


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
