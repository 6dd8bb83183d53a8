"""What type a plain YAML scalar has when Kubernetes reads it.

kubectl and the API server read YAML through sigs.k8s.io/yaml, which resolves
scalars with go-yaml v2 before turning the document into JSON. That is neither
YAML 1.1 as PyYAML reads it nor YAML 1.2. Where they differ, a scanner that
follows PyYAML judges a different object from the one the cluster runs:
``privileged: y`` is a privileged container for Kubernetes and the string "y"
for PyYAML. The rules here follow go-yaml v2's resolver:

- booleans: y, yes, true, on and n, no, false, off (in the cases go-yaml knows);
- integers: Go's ParseInt with base prefixes (0b, 0o, 0x, a leading 0 for octal)
  after removing underscores, falling back to an unsigned 64-bit value;
- floats: the YAML float syntax (1.5, .5, 1e3, -.5), .inf and .nan;
- no base-60 numbers (``1:20`` stays a string) and no ``=`` value key.

Timestamps stay the strings they are (go-yaml would make them times that JSON
prints back in RFC 3339, which is how the API writes them anyway).
"""

import math
import re

TAG = "tag:yaml.org,2002:"
STR, INT, FLOAT, BOOL, NULL = f"{TAG}str", f"{TAG}int", f"{TAG}float", f"{TAG}bool", f"{TAG}null"
MERGE, MAP, SEQ = f"{TAG}merge", f"{TAG}map", f"{TAG}seq"

BOOLEANS = {
    **dict.fromkeys(("y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON"), True),
    **dict.fromkeys(("n", "N", "no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF"), False),
}
_NULLS = frozenset(("", "~", "null", "Null", "NULL"))
_SPECIAL_FLOATS = {
    **{f"{sign}.{word}": float(f"{sign}inf") for sign in ("", "+", "-") for word in ("inf", "Inf", "INF")},
    **{f".{word}": math.nan for word in ("nan", "NaN", "NAN")},
}
_GO_INT = re.compile(r"[-+]?(?:0[bB][01]+|0[oO][0-7]+|0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)")
_YAML_FLOAT = re.compile(r"[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?")
_DOT_FLOAT = re.compile(r"\.[0-9]+(?:[eE][-+]?[0-9]+)?")
_INT64 = range(-(2**63), 2**63)
_UINT64 = range(2**64)


def tag_of(text: str) -> str:
    """The tag go-yaml v2 gives the plain (unquoted) scalar ``text``."""
    if text in BOOLEANS:
        return BOOL
    if text in _NULLS:
        return NULL
    if text in _SPECIAL_FLOATS:
        return FLOAT
    if text == "<<":
        return MERGE
    first = text[0]
    if first == ".":
        return FLOAT if _DOT_FLOAT.fullmatch(text) else STR
    if first in "+-0123456789":
        if to_int(text) is not None:
            return INT
        if to_float(text) is not None:
            return FLOAT
    return STR


def to_int(text: str) -> int | None:
    """Go's ParseInt(text without underscores, base 0, 64 bits), then ParseUint; None if neither."""
    plain = text.replace("_", "")
    if len(plain) > 70 or not _GO_INT.fullmatch(plain):  # 64 bits: at most "-0b" and 64 digits
        return None
    digits = plain.lstrip("+-")
    prefix = digits[:2].lower()
    if prefix in ("0b", "0o", "0x"):
        value = int(digits[2:], {"0b": 2, "0o": 8, "0x": 16}[prefix])
    elif len(digits) > 1 and digits[0] == "0":
        value = int(digits, 8)
    else:
        value = int(digits)
    if plain[0] == "-":
        value = -value
    if value in _INT64 or (plain[0] != "+" and value in _UINT64):  # ParseUint takes no sign
        return value
    return None


def to_float(text: str) -> float | None:
    """A YAML-syntax float (Go's ParseFloat, which refuses what overflows); None otherwise."""
    if text in _SPECIAL_FLOATS:
        return _SPECIAL_FLOATS[text]
    plain = text if text.startswith(".") else text.replace("_", "")
    if not _YAML_FLOAT.fullmatch(plain):
        return None
    value = float(plain)
    return None if math.isinf(value) else value
