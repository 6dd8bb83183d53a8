"""Read a YAML document with yaml-rs when nothing in it can read differently.

yaml-rs (a Rust parser on PyPI) reads a large manifest about eight times faster
than PyYAML's C loader, but it reads YAML 1.2 with its own scalar rules, and
Kubernetes reads YAML through go-yaml v2 (kubernetes_scalars). Where the two
readings part, a check would judge a different object from the one the cluster
runs: ``privileged: yes`` is true for Kubernetes and the string "yes" for yaml-rs,
``defaultMode: 0777`` is 511 for Kubernetes and 777 for yaml-rs.

So yaml-rs only reads a document in which none of those constructs appears. One
pass of RE2 (linear time, no backtracking, about as fast as reading the bytes)
looks for every plain scalar and syntax feature that the two readings could
treat differently, and for what could take yaml-rs too deep: a document that
holds any of them, or that yaml-rs refuses, is read by PyYAML (yaml_documents),
whose reading and error messages stay the reference. The pattern is
deliberately broad (a "yes" inside a sentence is enough): a false alarm costs
only time. tests/scanning/test_yaml_fast.py compares both readings over the
shared corpus, generated scalars in every position a scalar can take, damaged
documents, and what an adversarial review of this guard found.

Both packages are dependencies, but the code does not need them: should either be
missing, every document goes to PyYAML.
"""

import re

import orjson

try:
    import re2
    import yaml_rs
except ImportError:  # pragma: no cover - a platform without their wheels
    re2 = yaml_rs = None

from posture.scanning.collectors.limits import MAX_ALIAS_EXPANSION

UNSURE = object()  # returned when PyYAML must read the document

# Where a plain scalar can start: a line start, after white space or a flow
# indicator, or right after the ":" of a quoted or flow key ({"a":yes}).
_START = rb"(?:^|[\s\[{,]|[\"'\]}]:)"
# Where it ends: end of line, a comment, a flow indicator, or ": " (it was a key).
_END = rb"(?:[ \t]*(?:[\r\n,\]}#]|:[ \t\r\n]|:?$))"
_PARTED_SCALARS = (
    # Words go-yaml reads as booleans and YAML 1.2 as strings.
    rb"(?:[yYnN]|[yY]es|YES|[nN]o|NO|[oO]n|ON|[oO]ff|OFF)" + _END,
    # A leading zero (0777 is octal for Kubernetes, decimal for YAML 1.2; 08 a float),
    # and numbers past 64 bits or past a float's range, which the two round differently.
    rb"[-+]?(?:0[0-9_][0-9_.eE+-]*|[0-9_]{19,}[0-9_.eE+-]*|[0-9_.]*[eE][-+]?[0-9_]{3,}"
    rb"|0[xX][0-9a-fA-F_]{15,}|0[bBoO][0-9_]{20,})" + _END,
    # Underscores in a number: go-yaml drops them only where Go's ParseInt/ParseFloat do.
    rb"[-+]?(?:_|[0-9.][0-9a-fA-FxXoObB.+-]*_)[0-9a-fA-FxXoObB_.+-]*" + _END,
    rb":[^\s]",  # a plain scalar starting with ":", which YAML 1.2 allows and YAML 1.1 does not
    # Infinity and NaN: yaml-rs takes any case (".iNf"), and NaN keys, never equal, do not collide.
    rb"[-+]?\.(?i:inf|nan)",
    rb"!",  # a tag: PyYAML refuses tags it does not know, yaml-rs ignores them
    rb"<<",  # a merge key, which YAML 1.2 does not merge
    # "|" or ">" that does not open a block scalar: PyYAML refuses it, yaml-rs reads a string ("[ >a ]").
    rb"[|>][-+0-9]*(?:[^-+0-9\s]|[ \t]+[^#\s])",
    rb"\?",  # a complex key: yaml-rs makes a tuple of it, PyYAML refuses it
    # An anchor. yaml-rs copies what an alias names where PyYAML shares one object (which
    # redaction then blanks everywhere at once), and it reads anchors PyYAML refuses (twice the
    # same name, an alias inside its own anchor, an alias as a key). Without an anchor an alias
    # is an error for both.
    rb"&",
)
# From a line's start to a point outside its quoted strings (a last-applied annotation is
# JSON in one quoted string: its brackets are not flow collections).
_OUTSIDE_QUOTES = rb"^(?:[^'\"\[{\n]|'[^'\n]*'|\"(?:[^\"\\\n]|\\.)*\")*"
_ANYWHERE = (
    rb"^%",  # a directive (%YAML 1.1)
    rb"^[|>]",  # a block scalar as the document itself
    rb"^[ ?:-]*\t",  # a tab in indentation or after "-", which PyYAML refuses and yaml-rs forgives
    rb"(?:[\[{,]|[\"'\]}]:)[ \t]*[|>]",  # "|" or ">" in a flow collection
    # A flow collection that may run over a line: libyaml refuses keys that span lines (yaml-rs
    # joins them) and "|" inside one, and a key on the next line escapes the key check below.
    # Conservatively: a "[" or "{" outside the line's quoted strings, on a line that does not
    # end in "]" or "}" or that has a comment after it.
    _OUTSIDE_QUOTES + rb"[\[{][^\n]*(?:[^\]}\s][ \t\r]*$|[ \t]#)",
    rb"\r(?:[^\n]|\z)",  # a line break that is a lone carriage return: lines as PyYAML counts them
    # A document marker with content ("--- x"): the files are split at the markers without.
    rb"^---[ \t]+[^ \t#\r\n]|^\.\.\.[ \t]+[^ \t\r\n]",
    rb"[\]}][ \t]*:",  # a flow collection as a key
    rb":[,\]}?]",  # a key ending a flow entry ("[a:]", "[a:?]"), which YAML 1.1 does not allow
    rb"(?:^|[-?:,\[{])[ \t]*:(?:[ \t\r]|$)",  # an empty key ("- :"), which YAML 1.1 does not allow
    # Deep block nesting: yaml-rs recurses without a limit and overflows the stack near
    # 20,000 levels; at most 127 levels of indentation or compact "- - -" reach it.
    rb"^[ \t?-]{128}",
    # An escaped surrogate ("\\ud83d\\ude00"): libyaml refuses it, yaml-rs pairs it.
    rb"\\u[dD][89a-fA-F]|\\U0000[dD][89a-fA-F]",
    # Characters PyYAML refuses or reads as line breaks (NEL, U+2028, U+2029), and a BOM.
    rb"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]|\xc2[\x80-\x9f]|\xe2\x80[\xa8\xa9]|\xef\xbb\xbf|\xef\xbf[\xbe\xbf]",
)
_NEEDS_PYYAML = rb"(?m)" + _START + rb"(?:" + rb"|".join(_PARTED_SCALARS) + rb")|" + rb"|".join(_ANYWHERE)

# A flow collection inside one: it may be a key ("{[a]}", "{a: 1, [b]}"), which yaml-rs makes a
# tuple and PyYAML refuses. Far more often it is JSON inside a string (every last-applied
# annotation), so the documents of a file that has one are read, then checked for keys that
# are not scalars.
_NESTED_FLOW_COLLECTION = rb"[\[{,][ \t]*[\[{]"

# A block scalar header ("key: |", "- >-") ending its line: its content follows.
_BLOCK_SCALAR_HEADER = rb"(?m)(?:^|[\s\[{,])[|>][-+0-9]*[ \t]*(?:#[^\r\n]*)?\r?$"
_NEXT_CONTENT_LINE = re.compile(rb"\n( *)[^ \r\n]")

if yaml_rs is not None:
    _options = re2.Options()
    _options.encoding = re2.Options.Encoding.LATIN1  # match bytes, not code points
    _options.never_capture = True
    _GUARD = re2.compile(_NEEDS_PYYAML, _options)
    _BLOCK_SCALARS = re2.compile(_BLOCK_SCALAR_HEADER, _options)
    _NESTED_FLOW = re2.compile(_NESTED_FLOW_COLLECTION, _options)
    _TEMPLATE_MARK = re2.compile(rb"\{\{", _options)
    # Documents with anchors go to PyYAML (the guard), so yaml-rs should never expand an
    # alias; should one get past, it gets no more room than PyYAML's reading allows, and at
    # most four levels of aliases within aliases (each multiplies depth as well as size).
    _ALIAS_LIMITS = yaml_rs.AliasLimits(
        max_total_replayed_events=MAX_ALIAS_EXPANSION, max_replay_stack_depth=4
    )
    _LAST_KEY_WINS = yaml_rs.DuplicateKeyPolicy.LastWins  # as PyYAML reads a repeated key


def available() -> bool:
    return yaml_rs is not None


def has_template_mark(data: bytes) -> bool:
    """Whether ``data`` holds a template's ``{{``. A manifest holds braces by the hundred thousand
    (the JSON of last-applied annotations), where bytes.find stops at each: RE2 is 5x faster."""
    if yaml_rs is None:
        return b"{{" in data
    return _TEMPLATE_MARK.search(data) is not None


class FileReader:
    """The fast reading of one file's documents.

    The guards run once over the whole file; only when one finds something does
    each document get its own look, so that one odd document does not send the
    rest of the file to PyYAML.
    """

    def __init__(self, data: bytes):
        self.whole_file_plain = _GUARD.search(data) is None
        # A block scalar empty in a document is empty in the file: look document by document
        # only when the file has one.
        self.has_empty_block_scalars = _has_empty_block_scalar(data)
        self.has_nested_flow = _NESTED_FLOW.search(data) is not None

    def load(self, chunk: bytes):
        """The document in ``chunk``, or UNSURE when PyYAML must read it."""
        if not self.whole_file_plain and _GUARD.search(chunk) is not None:
            return UNSURE
        if self.has_empty_block_scalars and _has_empty_block_scalar(chunk):
            return UNSURE
        try:
            text = chunk.decode("utf-8")
        except UnicodeDecodeError:
            return UNSURE
        if not text.endswith("\n"):  # the file's last line
            if "|" in text or ">" in text:
                return UNSURE  # yaml-rs would give a block scalar ending there a line break it lacks
            text += "\n"
        try:
            document = yaml_rs.loads(
                text, parse_datetime=False, alias_limits=_ALIAS_LIMITS, duplicate_key_policy=_LAST_KEY_WINS
            )
        except (ValueError, TypeError, OverflowError, RecursionError):
            return UNSURE  # PyYAML reads it again, and words the error if there is one
        except BaseException as exc:
            # A panic in the Rust parser reaches Python as pyo3's PanicException, which derives
            # from BaseException so that `except Exception` does not swallow it. Here it only
            # means yaml-rs could not read this document.
            if type(exc).__name__ != "PanicException":
                raise
            return UNSURE
        # Searching each document again would cost more than the check (RE2's call overhead).
        if self.has_nested_flow and not _scalar_keys_only(document):
            return UNSURE
        return document


def _scalar_keys_only(document) -> bool:
    """No mapping in ``document`` has a collection as a key (a tuple or frozenset from yaml-rs)."""
    # orjson walks the whole document in C. Without options it refuses every key that is not
    # a string; almost every manifest has none, and this is a third faster than asking it to
    # write the others, which it does only for scalars (it refuses exactly the collections).
    try:
        orjson.dumps(document)
    except TypeError:
        try:
            orjson.dumps(document, option=orjson.OPT_NON_STR_KEYS)
        except TypeError:
            return False
    return True


def _has_empty_block_scalar(chunk: bytes) -> bool:
    """Whether a block scalar has no content line: yaml-rs reads "\\n" where PyYAML reads "".

    Content must be indented deeper than the line holding the header (past its "- "
    indicators); a next line that is not is the following key, so the scalar is empty.
    Judged conservatively: a doubtful case goes to PyYAML.
    """
    if b"|" not in chunk and b">" not in chunk:  # a plain byte search is ten times faster than RE2
        return False
    for header in _BLOCK_SCALARS.finditer(chunk):
        line_start = chunk.rfind(b"\n", 0, header.start()) + 1
        line = chunk[line_start : header.start()]
        parent_indent = len(line) - len(line.lstrip(b" -"))
        content = _NEXT_CONTENT_LINE.search(chunk, header.end())
        if content is None or len(content.group(1)) <= parent_indent:
            return True
    return False


def reader_for(data: bytes) -> FileReader | None:
    return FileReader(data) if yaml_rs is not None else None
