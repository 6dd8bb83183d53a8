"""yaml-rs reads a document only when it reads it exactly as PyYAML's Kubernetes reading does.

The reference is yaml_documents (PyYAML, scalars typed as Kubernetes types them).
Wherever the fast reader returns a document, it must be identical to the reference,
type for type, and it must never read a document the reference refuses. These tests
compare both over the shared corpus, over generated scalars in every position a
scalar can take, and over randomly damaged documents.
"""

import random
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from posture.scanning.collectors import yaml_fast
from posture.scanning.collectors.snapshot import _split_documents, read_bytes
from posture.scanning.collectors.yaml_documents import load_document
from tests.corpus import CORPUS
from tests.scanning.test_yaml_documents import assert_identical

pytestmark = pytest.mark.skipif(not yaml_fast.available(), reason="yaml-rs is not installed")

CORPUS_FILES = sorted(path for path in CORPUS.rglob("*") if path.suffix in (".yaml", ".yml"))
REFUSED = (yaml.YAMLError, ValueError, RecursionError)


def fast(chunk: bytes):
    return yaml_fast.FileReader(chunk).load(chunk)


def assert_reads_as_reference(chunk: bytes, where: str) -> bool:
    """True when the fast reader read it; fails when it read it differently."""
    got = fast(chunk)
    if got is yaml_fast.UNSURE:
        return False
    try:
        expected = load_document(chunk)
    except REFUSED as error:
        pytest.fail(f"{where}: yaml-rs read a document PyYAML refuses ({error}): {chunk[:300]!r}")
    if repr(got) != repr(expected) or type(got) is not type(expected):  # repr: NaN keys compare unequal
        assert_identical(got, expected, where)
    return True


@pytest.mark.skipif(not CORPUS_FILES, reason=f"the shared corpus is not at {CORPUS}")
def test_the_shared_corpus_reads_as_with_pyyaml_and_mostly_fast():
    read_fast = total = 0
    for path in CORPUS_FILES:
        data = path.read_bytes()
        reader = yaml_fast.FileReader(data)
        for number, chunk in enumerate(_split_documents(data), start=1):
            if not chunk.strip():
                continue
            total += 1
            got = reader.load(chunk)
            if got is not yaml_fast.UNSURE:
                read_fast += 1
                assert_identical(got, load_document(chunk), f"{path.name} document {number}")
    # The guard is broad on purpose, but not so broad that real manifests miss the fast path.
    assert total > 2000
    assert read_fast / total > 0.9, (read_fast, total)


@pytest.mark.skipif(not CORPUS_FILES, reason=f"the shared corpus is not at {CORPUS}")
def test_a_snapshot_reads_the_same_objects_and_errors_without_yaml_rs(monkeypatch):
    with_fast = [read_bytes(path.read_bytes(), path.name) for path in CORPUS_FILES]
    monkeypatch.setattr(yaml_fast, "yaml_rs", None)
    for path, fast_snapshot in zip(CORPUS_FILES, with_fast, strict=True):
        reference = read_bytes(path.read_bytes(), path.name)
        assert fast_snapshot.errors == reference.errors, path.name
        assert (fast_snapshot.documents, fast_snapshot.skipped) == (reference.documents, reference.skipped)
        assert_identical(fast_snapshot.objects, reference.objects, path.name)


KUBERNETES_READINGS = [
    (b"privileged: yes\n", {"privileged": True}),
    (b"privileged: On\n", {"privileged": True}),
    (b"readOnlyRootFilesystem: n\n", {"readOnlyRootFilesystem": False}),
    (b"defaultMode: 0777\n", {"defaultMode": 511}),
    (b"defaultMode: 0o644\n", {"defaultMode": 420}),
    (b"runAsUser: 1_000\n", {"runAsUser": 1000}),
    (b"value: 08\n", {"value": 8.0}),
    (b"port: 99999999999999999999\n", {"port": 1e20}),
    (b"ratio: 1e400\n", {"ratio": "1e400"}),
    (b"a: &base {x: 1}\nb:\n  <<: *base\n  z: 2\n", {"a": {"x": 1}, "b": {"x": 1, "z": 2}}),
    (b"y: 1\n", {True: 1}),
    (b'quoted: "yes"\nmode: "0777"\n', {"quoted": "yes", "mode": "0777"}),
]


@pytest.mark.parametrize(("chunk", "expected"), KUBERNETES_READINGS)
def test_scalars_that_yaml_1_2_reads_differently_are_read_as_kubernetes_reads_them(chunk, expected):
    snapshot = read_bytes(b"apiVersion: v1\nkind: ConfigMap\n" + chunk, "manifest.yaml")
    document = snapshot.objects[0]
    assert {key: document[key] for key in expected} == expected


# Found by two adversarial reviews: each was read by yaml-rs, and differently from PyYAML (or
# where PyYAML refuses the document). They must now go to PyYAML.
REVIEWED_COUNTEREXAMPLES = [
    b"a: .iNf\n",  # yaml-rs takes any case after the dot
    b"a: -.INf\n",
    b"a: .nAN\n",
    b'a: "\\ud83d\\ude00"\n',  # a surrogate pair: libyaml refuses it
    b".nan: 1\n.NaN: 2\n",  # two NaN keys
    b"a: &x [*x]\n",  # an alias inside its own anchor
    b"&x\na: *x\n",
    b"a: &x 1\nb: &x 2\n",  # an anchor name used twice
    b"a: &x [1]\n*x : 2\n",  # an alias as a key
    b"{[a]}\n",  # flow collections as keys
    b"{{}}\n",
    b"[[a]:b]\n",
    b"{a: 1, [b]}\n",
    b"{a\n b: c}\n",  # a key spanning lines
    b'{"a\n b": c}\n',
    b"[a:?]\n",
    b'{"a":|\n}\n',
    b"{a: [], b\n c: d}\n",  # a second review: flow collections over lines, hidden by "]" or "}"
    b'{a: {}, "b\nc": d}\n',
    b'{a: "]", "b\n": c}\n',
    b"{a: 1, #}\n b\n c: d}\n",
    b"{a: [],\n[b]}\n",
    b"{a: [],\n{b: c}}\n",
    b'{a: "}",\n {b}}\n',
    b"{x: [], a: |\n  b}\n",
    b":\r\n",  # CRLF line ends
    b"- :\r\n",
    b"[a]:\r\n",
    b"a: |\r\n",
]


@pytest.mark.parametrize("chunk", REVIEWED_COUNTEREXAMPLES)
def test_what_a_review_found_is_left_to_pyyaml(chunk):
    assert fast(chunk) is yaml_fast.UNSURE


def test_json_inside_a_string_still_reads_fast():
    # Every object kubectl applied carries its JSON in an annotation: "[{" there is no key.
    chunk = (
        b"kind: Deployment\nmetadata:\n  annotations:\n    kubectl.kubernetes.io/last-applied-configuration: "
        b'\'{"spec":{"containers":[{"name":"api"}]}}\'\n'
    )
    document = fast(chunk)
    assert document is not yaml_fast.UNSURE
    assert_identical(document, load_document(chunk))


def test_keys_that_are_numbers_or_booleans_still_read_fast_next_to_json_in_a_string():
    # The key check refuses collections as keys, not every key that is not a string.
    chunk = b"kind: ConfigMap\ndata:\n  8080: http\n  true: a\n  null: b\n  json: '[[1], {\"a\": [2]}]'\n"
    document = fast(chunk)
    assert document is not yaml_fast.UNSURE
    assert_identical(document, load_document(chunk))
    assert set(document["data"]) == {8080, True, None, "json"}


def test_a_value_shared_through_an_alias_is_redacted_everywhere_as_before():
    # PyYAML shares the aliased object, so blanking it blanks every place it appears;
    # yaml-rs would make copies and keep one.
    data = (
        b"apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\n"
        b"  annotations: &a\n    password: hunter2\nextra: *a\n"
    )
    snapshot = read_bytes(data, "secret.yaml")
    assert "hunter2" not in repr(snapshot.objects)


WORDS = (  # noqa: SIM905 - a list of 90 short words reads better as one string
    "yes Yes YES no No NO on On ON off Off OFF y Y n N true True TRUE false False null Null NULL ~ "
    ".inf -.Inf +.INF .nan .NaN 0x1F -0x1F +0x1F 0o17 -0o17 +0o17 0b101 -0b101 1_000 _1 1_ 0_7 0x_1F "
    "1.5_0 .5_0 1e3 1E+03 1e-3 1. .5 -.5 +.5 18446744073709551615 18446744073709551616 "
    "9223372036854775807 -9223372036854775809 0xFFFFFFFFFFFFFFFF 0x10000000000000000 1e308 2e308 "
    "0777 08 09 0 00 -0 +0 1:20 190:20:30 2001-12-14 = << : :x - -- > | >x |x ? ?x & &x &x: *x ! !x @x %x"
).split()
POSITIONS = (
    "a: {}",
    "{}: a",
    "- {}",
    "[{}]",
    "{{a: {}}}",
    "{{{}: a}}",
    '{{"a":{}}}',
    "a: [b, {}]",
    "a:\n  {}",
    "a: {} # c",
    "a:\n- {}",
    "? {}\n: b",
    "a: &x {}\nb: *x",
    "{}",
    "a: |\n  {}",
    "a: '{}'",
    'a: "{}"',
)


def generated_scalars(seed: int, count: int) -> list[str]:
    atoms = list("0178_.eE+-xXobBafFinNyYsS: ~lI")
    rng = random.Random(seed)  # noqa: S311 - reproducible test data
    return [*WORDS, *("".join(rng.choice(atoms) for _ in range(rng.randint(1, 6))) for _ in range(count))]


def test_generated_scalars_in_every_position_read_as_with_pyyaml():
    read_fast = 0
    for scalar in generated_scalars(seed=7, count=1500):
        for position in POSITIONS:
            chunk = position.format(scalar).encode() + b"\n"
            read_fast += assert_reads_as_reference(chunk, f"{position!r} with {scalar!r}")
    assert read_fast > 10_000  # the comparison compared something


@pytest.mark.skipif(not CORPUS_FILES, reason=f"the shared corpus is not at {CORPUS}")
def test_damaged_documents_are_read_as_with_pyyaml_or_left_to_it():
    documents = [
        chunk for path in CORPUS_FILES for chunk in _split_documents(path.read_bytes()) if chunk.strip()
    ]
    rng = random.Random(2026)  # noqa: S311 - reproducible test data
    alphabet = b" \t\n\r-:?[]{},#&*!|>'\"%@`0123456789abyYnN.e_\\"
    read_fast = 0
    for attempt in range(3000):
        damaged = bytearray(rng.choice(documents)[:2000])
        for _ in range(rng.randint(1, 3)):
            at = rng.randrange(len(damaged) + 1)
            if rng.random() < 0.5:
                damaged[at:at] = bytes([rng.choice(alphabet)])
            else:
                del damaged[at : at + rng.randint(1, 3)]
        read_fast += assert_reads_as_reference(bytes(damaged) + b"\n", f"damaged document {attempt}")
    assert read_fast > 1000


HOSTILE = {
    "compact sequences 50,000 deep": "'- ' * 50_000 + 'a\\n'",
    "aliases nesting aliases": (
        "''.join(f'a{i}: &a{i} ' + '[' * 200 + (f'*a{i - 1}' if i else 'x') + ']' * 200 + '\\n'"
        " for i in range(64))"
    ),
    "flow collections 100,000 deep": "'a: ' + '[' * 100_000 + ']' * 100_000 + '\\n'",
}


@pytest.mark.parametrize("expression", HOSTILE.values(), ids=HOSTILE.keys())
def test_hostile_nesting_is_refused_without_crashing_the_process(expression):
    # yaml-rs recurses without a limit: a stack overflow would kill the worker, so the
    # guard must keep such documents from it. Run in a child process to see a crash.
    script = (
        "from posture.scanning.collectors.snapshot import read_bytes\n"
        f"snapshot = read_bytes(({expression}).encode(), 'hostile.yaml')\n"
        "print(len(snapshot.objects), len(snapshot.errors))\n"
    )
    root = Path(__file__).parents[2]
    command = [sys.executable, "-c", script]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, cwd=root)
    assert done.returncode == 0, done.stderr[-2000:]
    # Refused as an error, or read as something that is no Kubernetes object.
    assert done.stdout.split() in (["0", "1"], ["0", "0"])


def test_a_panic_in_yaml_rs_leaves_the_document_to_pyyaml(monkeypatch):
    class PanicException(BaseException):  # how pyo3 surfaces a Rust panic
        pass

    def panic(*args, **kwargs):
        raise PanicException("internal error")

    monkeypatch.setattr(yaml_fast.yaml_rs, "loads", panic)
    snapshot = read_bytes(b"apiVersion: v1\nkind: Pod\nmetadata: {name: web}\n", "pod.yaml")
    assert [obj["metadata"]["name"] for obj in snapshot.objects] == ["web"]
    assert snapshot.errors == []
