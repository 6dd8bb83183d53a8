"""Read Kubernetes objects from snapshot files.

Accepts multi-document YAML, JSON (one object, an array, or a ``kind: List``
as ``kubectl get -o json`` writes it, or an API ``*List`` whose items carry no
kind), gzip-compressed variants of these, and directories of them. A malformed
document is reported with its file and document number, and the rest is read.
"""

import gzip
import io
import itertools
import json
import re
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

from posture.scanning import forking
from posture.scanning.collectors import yaml_fast
from posture.scanning.collectors.redact import redact
from posture.scanning.inventory import cyclic_gc_paused

STDIN_NAME = "<stdin>"  # the name of what was piped in: no file, so no file location either
MANIFEST_SUFFIXES = (".yaml", ".yml", ".json", ".yaml.gz", ".yml.gz", ".json.gz", ".gz")
_DOCUMENT_SEPARATOR = re.compile(rb"^---[^\S\n]*(?:#[^\n]*)?$|^\.\.\.[^\S\n]*$", re.MULTILINE)
_GZIP_MAGIC = b"\x1f\x8b"


class SnapshotError(Exception):
    """Nothing could be read: the message is meant for the user."""


class SnapshotTooLarge(SnapshotError):
    pass


@dataclass(frozen=True, slots=True)
class DocumentError:
    file: str
    document: int  # 1-based; 0 when the whole file is unreadable
    reason: str

    def as_dict(self) -> dict:
        return {"file": self.file, "document": self.document, "reason": self.reason}


class Origin(NamedTuple):  # a tuple: built once per document, 50,000 times for a large file
    """Where an object was read: the line is the first of its document (YAML) or of its item in a
    JSON list, as an editor counts them."""

    file: str
    document: int  # 1-based
    line: int


@dataclass
class Snapshot:
    objects: list[dict] = field(default_factory=list)
    origins: list[Origin] = field(default_factory=list)  # one per object, in the same order
    errors: list[DocumentError] = field(default_factory=list)
    files: int = 0
    documents: int = 0
    skipped: int = 0  # parsed fine but not Kubernetes objects
    # What the collector that wrote the snapshot (the agent, or Rampart itself when it
    # stores an upload) could not read, and the server's /version: from List annotations.
    coverage_gaps: dict[str, str] = field(default_factory=dict)
    server_version: dict | None = None


# Annotations on a snapshot's `kind: List`, written by `manage.py collect` and store_snapshot.
COVERAGE_GAPS_ANNOTATION = "rampart.dev/coverage-gaps"
SERVER_VERSION_ANNOTATION = "rampart.dev/server-version"


def list_annotations(coverage_gaps: dict[str, str], server_version: dict | None) -> dict[str, str]:
    annotations = {COVERAGE_GAPS_ANNOTATION: json.dumps(coverage_gaps, sort_keys=True)}
    if server_version:
        annotations[SERVER_VERSION_ANNOTATION] = json.dumps(server_version, sort_keys=True)
    return annotations


def read_paths(paths: Iterable[str | Path], max_bytes: int | None = None) -> Snapshot:
    """Read files and directories (recursively, manifest suffixes only)."""
    snapshot = Snapshot()
    for path in map(Path, paths):
        if path.is_dir():
            files = sorted(p for p in path.rglob("*") if p.is_file() and p.name.endswith(MANIFEST_SUFFIXES))
        elif path.is_file():
            files = [path]
        else:
            raise SnapshotError(f"{path}: no such file or directory")
        for file_path in files:
            try:
                data = file_path.read_bytes()
            except OSError as exc:
                snapshot.errors.append(DocumentError(str(file_path), 0, exc.strerror or "cannot be read"))
                continue
            read_bytes(data, str(file_path), snapshot, max_bytes=max_bytes)
    return snapshot


def read_bytes(
    data: bytes, name: str, snapshot: Snapshot | None = None, max_bytes: int | None = None
) -> Snapshot:
    """Parse one file's content into ``snapshot`` (a new one unless given)."""
    snapshot = snapshot if snapshot is not None else Snapshot()
    snapshot.files += 1
    try:
        if data[:2] == _GZIP_MAGIC:
            data = _gunzip(data, max_bytes)
        elif max_bytes is not None and len(data) > max_bytes:
            raise SnapshotTooLarge(f"larger than the {max_bytes // (1024 * 1024)} MiB limit")
    except SnapshotTooLarge:
        raise
    except (OSError, EOFError, gzip.BadGzipFile, zlib.error) as exc:
        snapshot.errors.append(DocumentError(name, 0, f"not a valid gzip file ({exc})"))
        return snapshot
    if b"\x00" in data[:8192]:
        snapshot.errors.append(DocumentError(name, 0, "not a YAML or JSON file (binary content)"))
        return snapshot
    # Parsing allocates a large, cycle-free tree: pausing the cyclic collector halves the time.
    with cyclic_gc_paused():
        if _looks_like_json(data):
            snapshot.documents += 1
            try:
                text = data.decode("utf-8-sig")
            except UnicodeDecodeError:
                snapshot.errors.append(DocumentError(name, 1, "not UTF-8 text"))
                return snapshot
            del data  # from here on the text is all that is needed: do not hold both
            _read_json(text, name, snapshot)
        else:
            _read_yaml(data, name, snapshot)
    return snapshot


def _gunzip(data: bytes, max_bytes: int | None) -> bytes:
    # Read in chunks so that a small "zip bomb" cannot exhaust memory.
    limit = max_bytes if max_bytes is not None else 1 << 62
    out = io.BytesIO()
    with gzip.GzipFile(fileobj=io.BytesIO(data)) as stream:
        while chunk := stream.read(1 << 20):
            out.write(chunk)
            if out.tell() > limit:
                raise SnapshotTooLarge(
                    f"larger than the {limit // (1024 * 1024)} MiB limit once decompressed"
                )
    return out.getvalue()


def _looks_like_json(data: bytes) -> bool:
    head = data[:64].lstrip()
    if head.startswith(b"\xef\xbb\xbf"):
        head = head[3:].lstrip()
    return head[:1] in (b"{", b"[")


# A \uD800-\uDFFF escape that is not half of a pair. Python's decoder keeps it as a lone
# surrogate, which no UTF-8 output (storage, the database, a terminal) can hold; Go's
# decoder, and so Kubernetes, reads it as U+FFFD.
_LONE_SURROGATE = re.compile(
    r"\\u[dD][89abAB][0-9a-fA-F]{2}(?!\\u[dD][c-fC-F][0-9a-fA-F]{2})"
    r"|(?<!\\u[dD][89abAB][0-9a-fA-F]{2})\\u[dD][c-fC-F][0-9a-fA-F]{2}"
)


_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")  # one fast pass decides whether to look closer


def _read_json(text: str, name: str, snapshot: Snapshot) -> None:
    if _SURROGATE_ESCAPE.search(text):  # rare: only then pay for the full pattern
        text = _LONE_SURROGATE.sub(r"\\ufffd", text)
    parser = _StreamingJson(text)
    try:
        document = parser.document()
    except (json.JSONDecodeError, _NotJson) as exc:
        snapshot.errors.append(DocumentError(name, 1, f"invalid JSON: {exc}"))
        return
    except RecursionError:
        snapshot.errors.append(DocumentError(name, 1, "invalid JSON: nested too deeply"))
        return
    if isinstance(document, list):
        for item in document:
            _add_document(item, snapshot, Origin(name, 1, parser.line_of(item)), parser.redacted)
    else:
        _add_document(document, snapshot, Origin(name, 1, 1), parser.redacted, parser.line_of)


class _NotJson(ValueError):
    pass


class _StreamingJson:
    """Parse a JSON document whose bulk is one big array, one element at a time.

    A ``kubectl get -o json`` dump is an object with an ``items`` array (or a
    bare array). Decoding each item on its own and redacting it at once keeps
    peak memory near the size of what is kept, not of everything the cluster
    sent (managedFields, last-applied copies): about 40% less for a large dump.
    """

    _WHITESPACE = " \t\n\r"

    def __init__(self, text: str):
        self.text = text
        self.at = 0
        self.decoder = json.JSONDecoder()
        self.redacted: set[int] = set()  # ids of the items already redacted: not twice
        self._item_lines: dict[int, int] = {}  # id of each array item -> the line it starts on
        self._line, self._counted = 1, 0

    def line_of(self, item) -> int:
        return self._item_lines.get(id(item), 1)

    def document(self):
        self._skip()
        opener = self._peek()
        if opener == "[":
            value = self._array()
        elif opener == "{":
            value = self._object()
        else:
            value, self.at = self.decoder.raw_decode(self.text, self.at)
        self._skip()
        if self.at != len(self.text):
            raise _NotJson(f"unexpected data after the document at position {self.at}")
        return value

    def _peek(self) -> str:
        if self.at >= len(self.text):
            raise _NotJson("unexpected end of the document")
        return self.text[self.at]

    def _skip(self) -> None:
        text, at, whitespace = self.text, self.at, self._WHITESPACE
        while at < len(text) and text[at] in whitespace:
            at += 1
        self.at = at

    def _expect(self, char: str) -> None:
        self._skip()
        if self._peek() != char:
            raise _NotJson(f"expected {char!r} at position {self.at}")
        self.at += 1

    def _object(self) -> dict:
        self._expect("{")
        result = {}
        self._skip()
        if self._peek() == "}":
            self.at += 1
            return result
        while True:
            self._skip()
            key, self.at = self.decoder.raw_decode(self.text, self.at)
            if not isinstance(key, str):
                raise _NotJson(f"object key expected at position {self.at}")
            self._expect(":")
            self._skip()
            if key == "items" and self._peek() == "[":
                result[key] = self._array()
            else:
                result[key], self.at = self.decoder.raw_decode(self.text, self.at)
            self._skip()
            if self._peek() == ",":
                self.at += 1
                continue
            self._expect("}")
            return result

    def _array(self) -> list:
        self._expect("[")
        items = []
        self._skip()
        if self._peek() == "]":
            self.at += 1
            return items
        while True:
            self._skip()
            # Counted from the last item on: one pass over the text in all.
            self._line += self.text.count("\n", self._counted, self.at)
            self._counted = self.at
            item, self.at = self.decoder.raw_decode(self.text, self.at)
            if isinstance(item, dict):
                redact(item)
                self.redacted.add(id(item))
                self._item_lines[id(item)] = self._line
            items.append(item)
            self._skip()
            if self._peek() == ",":
                self.at += 1
                continue
            self._expect("]")
            return items


# From this many documents on, a forked child reads the second half of a file: at 1,000 it
# costs about what it saves (a file of 200 workloads, 22 ms either way), at 5,000 it saves
# 3-9%, at 50,000 about 20%.
FORK_MIN_DOCUMENTS = 1000


def _read_yaml(data: bytes, name: str, snapshot: Snapshot) -> None:
    # A large file is read by two processes: the second half (by bytes, from a document marker)
    # by a forked child, the first here meanwhile; yaml-rs holds the interpreter lock while it
    # builds objects, so threads would not share the work. Each splits and guards its own half.
    cut = _halfway_marker(data) if _looks_like_many_documents(data) else None
    child = forking.start(_read_share, data, cut, name) if cut is not None else None
    if child is None:
        _read_part(data, name, snapshot)
        return
    try:
        spans = _read_part(data[:cut], name, snapshot)
        done, share = child.result()
        # The child numbered its documents from its half's start, which closes the parent's
        # last document (an empty first one): the parent's documents come before the rest.
        if done:
            _merge_share(snapshot, share, name, spans - 1)
        else:
            _read_part(data[cut:], name, snapshot, _lines_before(data, cut), spans - 1)
    finally:
        child.stop()  # reading stopped early (an error, a scan's time limit): end the child too


def _looks_like_many_documents(data: bytes) -> bool:
    # A plain count of marker-like line starts (no regular expression): cheap, and close
    # enough to decide whether a second process is worth starting.
    return data.count(b"\n---") + data.count(b"\n...") + 1 >= FORK_MIN_DOCUMENTS


def _halfway_marker(data: bytes) -> int | None:
    """Where the first document marker line at or after the middle of ``data`` starts."""
    for candidate in _SEPARATOR_CANDIDATE.finditer(data, len(data) // 2):
        if _DOCUMENT_SEPARATOR.match(data, candidate.end()) is not None:
            return candidate.end()
    return None


def _lines_before(data: bytes, end: int) -> int:
    return data.count(b"\n", 0, end)


def _read_part(
    data: bytes, name: str, snapshot: Snapshot, lines_before: int = 0, documents_before: int = 0
) -> int:
    """Read ``data``, a whole file or a part of one starting at a line, into ``snapshot``; the
    part's documents are numbered after ``documents_before`` and its lines after ``lines_before``.
    Returns how many documents the part holds, empty ones included."""
    # Split on document markers ourselves: PyYAML cannot resume after an error,
    # and one bad document must not hide the rest of the file.
    numbered, spans = _numbered_documents(data, lines_before, documents_before)
    objects_from, errors_from = len(snapshot.objects), len(snapshot.errors)
    _read_documents(numbered, yaml_fast.reader_for(data), name, snapshot)
    if yaml_fast.has_template_mark(data):
        _set_aside_unrendered_templates(snapshot, name, objects_from, errors_from)
    return spans


def _numbered_documents(
    data: bytes, lines_before: int = 0, documents_before: int = 0
) -> tuple[list[tuple[int, int, bytes]], int]:
    """The documents of ``data`` that hold something: (number in the file, line in the file where
    the document's text starts, text), and how many documents there are, empty ones included.
    The line turns an error's line in the document into the file's, which is the one an editor
    shows."""
    numbered = []
    line, counted, number = 1 + lines_before, 0, documents_before
    for number, (start, chunk) in enumerate(_document_spans(data), start=documents_before + 1):
        if chunk.strip():
            line += data.count(b"\n", counted, start)
            counted = start
            numbered.append((number, line, chunk))
    return numbered, number - documents_before


_LEADING_BLANKS = re.compile(rb"(?:[ \t]*(?:#[^\n]*)?(?:\r?\n))*")


def _read_documents(numbered, reader: "yaml_fast.FileReader | None", name: str, snapshot: Snapshot) -> None:
    for number, first_line, chunk in numbered:
        snapshot.documents += 1
        # The marker's line starts the text (errors count from it); the object starts after the
        # blank and comment lines that follow it, where an editor should point.
        origin = Origin(name, number, first_line + chunk.count(b"\n", 0, _LEADING_BLANKS.match(chunk).end()))
        document = reader.load(chunk) if reader is not None else yaml_fast.UNSURE
        if document is not yaml_fast.UNSURE:
            _add_document(document, snapshot, origin)
            continue
        pyyaml = _pyyaml_reading()
        try:
            document = pyyaml.load_document(chunk)
        except pyyaml.YAMLError as exc:
            reason = _template_reason(chunk, first_line) or pyyaml.describe(exc, first_line)
            snapshot.errors.append(DocumentError(name, number, reason))
            continue
        except (ValueError, RecursionError) as exc:  # e.g. undecodable bytes, absurd nesting
            snapshot.errors.append(DocumentError(name, number, f"unreadable document ({type(exc).__name__})"))
            continue
        _add_document(document, snapshot, origin)


# Helm and Go templates that nobody rendered: said as such, rather than as broken YAML or as
# objects whose placeholders ("{{ .Values.image }}") would be scanned as values.
_RENDER_FIRST = "render it first, e.g. with `helm template`"


def _template_reason(chunk: bytes, first_line: int) -> str | None:
    index = chunk.find(b"{{")
    if index < 0:
        return None
    line = first_line + chunk.count(b"\n", 0, index)
    return f"an unrendered Helm or Go template ('{{{{' on line {line} of the file): {_RENDER_FIRST}"


def _set_aside_unrendered_templates(
    snapshot: Snapshot, name: str, objects_from: int, errors_from: int
) -> None:
    """Objects of one file that are named with a placeholder become errors: no Kubernetes name
    may hold a brace, while other values may (alert rules, Argo workflows), so only names decide."""
    kept: list[tuple[dict, Origin]] = []
    errors = snapshot.errors[errors_from:]
    for obj, origin in zip(snapshot.objects[objects_from:], snapshot.origins[objects_from:], strict=True):
        metadata = obj.get("metadata")
        object_name = metadata.get("name") if isinstance(metadata, dict) else None
        if isinstance(object_name, str) and "{{" in object_name:
            reason = f"an unrendered Helm or Go template (its name is {object_name[:80]!r}): {_RENDER_FIRST}"
            errors.append(DocumentError(name, origin.document, reason))
        else:
            kept.append((obj, origin))
    if len(kept) == len(snapshot.objects) - objects_from:
        return
    snapshot.objects[objects_from:] = [obj for obj, _ in kept]
    snapshot.origins[objects_from:] = [origin for _, origin in kept]
    snapshot.errors[errors_from:] = sorted(errors, key=lambda error: error.document)


def _read_share(data: bytes, cut: int, name: str) -> tuple:
    """In the child: the second half of ``data`` read as the parent reads the first, as plain
    data for marshal (document numbers counted from the half's start)."""
    share = Snapshot()
    _read_part(data[cut:], name, share, _lines_before(data, cut))
    errors = [(error.document, error.reason) for error in share.errors]
    origins = [(origin.document, origin.line) for origin in share.origins]  # the file is the parent's
    return (
        share.objects,
        origins,
        errors,
        share.documents,
        share.skipped,
        share.coverage_gaps,
        share.server_version,
    )


def _merge_share(snapshot: Snapshot, share: tuple, name: str, documents_before: int) -> None:
    # The child's documents come after the parent's: merged as if read in order.
    objects, origins, errors, documents, skipped, coverage_gaps, server_version = share
    snapshot.objects.extend(objects)
    snapshot.origins.extend(Origin(name, documents_before + document, line) for document, line in origins)
    snapshot.errors.extend(
        DocumentError(name, documents_before + document, reason) for document, reason in errors
    )
    snapshot.documents += documents
    snapshot.skipped += skipped
    snapshot.coverage_gaps.update(coverage_gaps)
    if server_version is not None:
        snapshot.server_version = server_version


# Where a separator line can start: a plain search for these is several times faster than
# the separator pattern's own scan, which tries every line start.
_SEPARATOR_CANDIDATE = re.compile(rb"\n(?=---|\.\.\.)")


def _split_documents(data: bytes) -> Iterator[bytes]:
    for _start, chunk in _document_spans(data):
        yield chunk


def _document_spans(data: bytes) -> Iterator[tuple[int, bytes]]:
    """Each document's text and where in ``data`` it starts (just after its marker: on the marker's
    line, which is the first line of the text)."""
    start = 0
    line_starts = (candidate.end() for candidate in _SEPARATOR_CANDIDATE.finditer(data))
    for line_start in itertools.chain((0,), line_starts):
        match = _DOCUMENT_SEPARATOR.match(data, line_start)
        if match is not None:
            yield start, data[start : match.start()]
            start = match.end()
    yield start, data[start:]


def _pyyaml_reading():
    """The PyYAML reading (yaml_documents), imported when a document first needs it.

    Importing PyYAML costs about 0.03 s, more than yaml-rs needs for a thousand objects:
    a file yaml-rs reads whole never pays it.
    """
    from posture.scanning.collectors import yaml_documents

    return yaml_documents


def _add_document(
    document,
    snapshot: Snapshot,
    origin: Origin,
    redacted: set[int] | frozenset = frozenset(),
    line_of: Callable[[dict], int] | None = None,
) -> None:
    """``line_of`` gives a list item's own line, where the reading knows it (JSON); otherwise the
    items of a list have the list's origin."""
    if not isinstance(document, dict) or not _is_kind(document.get("kind")):
        if document is not None:
            snapshot.skipped += 1
        return
    kind = document["kind"]
    if kind == "List":
        _read_list_annotations(document, snapshot)
    if kind == "List" or (kind.endswith("List") and isinstance(document.get("items"), list)):
        # An API list ("DeploymentList") leaves kind and apiVersion off its items.
        item_kind = kind[: -len("List")] if kind != "List" else None
        for item in document.get("items") or []:
            if not isinstance(item, dict):
                snapshot.skipped += 1
                continue
            item_origin = Origin(origin.file, origin.document, line_of(item)) if line_of else origin
            if item_kind and "kind" not in item:
                item = {
                    **item,
                    "kind": item_kind,
                    "apiVersion": item.get("apiVersion", document.get("apiVersion")),
                }
            _add_document(item, snapshot, item_origin, redacted)
        return
    if not isinstance(document.get("apiVersion"), str):
        snapshot.skipped += 1
        return
    snapshot.objects.append(document if id(document) in redacted else redact(document))
    snapshot.origins.append(origin)


def _is_kind(kind) -> bool:
    return isinstance(kind, str) and bool(kind) and "\x00" not in kind


def _clean(value, limit: int) -> str:
    # Stored in the database: no NUL (PostgreSQL refuses it), bounded.
    return str(value).replace("\x00", "")[:limit]


def _read_list_annotations(document: dict, snapshot: Snapshot) -> None:
    metadata = document.get("metadata")
    annotations = metadata.get("annotations") if isinstance(metadata, dict) else None
    if not isinstance(annotations, dict):
        return
    try:
        gaps = json.loads(annotations.get(COVERAGE_GAPS_ANNOTATION) or "{}")
        version = json.loads(annotations.get(SERVER_VERSION_ANNOTATION) or "null")
    except (TypeError, ValueError):
        return  # a hand-made annotation that is not ours: ignore it rather than trust it
    if isinstance(gaps, dict):
        snapshot.coverage_gaps.update({_clean(k, 100): _clean(v, 300) for k, v in gaps.items()})
    if isinstance(version, dict):
        snapshot.server_version = {_clean(k, 40): _clean(v, 100) for k, v in version.items()}
