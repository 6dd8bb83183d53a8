"""Does a name or a value look like a credential? Shared by secret-in-env and secret-in-configmap.

Two independent signals, either is enough:
- the *name* (env var, ConfigMap key, or a ``key = value`` line inside a config file) has a
  word that means credential (password, secret, token, apikey, private key...) and the value
  is a literal that is not obviously something else (a file path, a ``$(VAR)`` reference, a
  boolean, empty);
- the *value* has the shape of a credential whatever its name: a PEM private key, an AWS
  access key id, a bearer token, a JWT, a URL with a password, a GitHub/Slack/Google/Stripe key.

Callers must never put the value into evidence or messages: see ``common.redact``.
"""

import re
from dataclasses import dataclass
from functools import lru_cache


def _vocabulary(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Words (after splitting a name on _ - . and camelCase) that mean "this holds a credential".
# Plurals ("secrets", "tokens") are left out: they nearly always name references, or counts
# (MAX_TOKENS), not a credential.
SENSITIVE_WORDS = _vocabulary(
    "password passwd passphrase pwd pass secret token apikey credential credentials creds bearer "
    "privatekey signingkey accesskey secretkey clientsecret sas connectionstring connstr"
)
# Word pairs that mean the same when written apart (API_KEY, PRIVATE_KEY, ACCESS_KEY...).
SENSITIVE_PAIRS = frozenset(
    tuple(pair.split("_"))
    for pair in _vocabulary(
        "api_key private_key access_key secret_key signing_key encryption_key master_key account_key "
        "batch_key key_content auth_key client_secret connection_string session_key license_key "
        "storage_key shared_key hmac_key webhook_secret"
    )
)
# A last word that says the value is about a credential, not the credential itself.
NOT_A_VALUE_SUFFIXES = _vocabulary(
    "file path dir directory name names ref id ids url uri endpoint enabled enable disabled ttl timeout "
    "expiry expiration expires length size type algorithm alg header policy mode format version count "
    "seconds days hours minutes interval location provider source mount key_id keyid duration field "
    "rotation min max required secretname kind template issuer audience scope scopes prefix suffix env "
    "namespace store reference host port user username"
)

_PASSWORD_ENDINGS = ("password", "passwd", "passphrase")
_SPLIT = re.compile(r"[^A-Za-z0-9]+|(?<=[a-z0-9])(?=[A-Z])")
_REFERENCE = re.compile(r"^\s*(\$\(|\$\{|\{\{|<[^>]*>$|%\(|ENC\[|vault:|ref\+|arn:aws:secretsmanager)")
_BOOLEAN_OR_NULL = _vocabulary("true false yes no on off null none nil ~ enabled disabled")

CREDENTIAL_VALUE_PATTERNS: tuple[tuple[str, re.Pattern], ...] = (
    ("a private key", re.compile(r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----")),
    ("an AWS access key id", re.compile(r"\b(?:AKIA|ASIA|AIDA|AROA)[0-9A-Z]{16}\b")),
    ("a bearer token", re.compile(r"(?i)\bbearer\s+[A-Za-z0-9._~+/=-]{6,}")),
    ("a JSON Web Token", re.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}")),
    # The user may be empty: redis://:password@host is how Redis URLs carry a password.
    ("a URL with a password", re.compile(r"[a-z][a-z0-9+.-]*://[^/\s:@]*:(?!\$\(|\$\{|\{\{)[^/\s@]+@[^\s]+")),
    ("a GitHub token", re.compile(r"\b(?:gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{40,})\b")),
    ("a Slack token", re.compile(r"\bxox[abposr]-[A-Za-z0-9-]{10,}")),
    ("a Google API key", re.compile(r"\bAIza[0-9A-Za-z_-]{35}\b")),
    ("a Stripe secret key", re.compile(r"\b[rs]k_live_[0-9a-zA-Z]{20,}\b")),
)


def words(name: str) -> list[str]:
    return [w.lower() for w in _SPLIT.split(name) if w]


@lru_cache(maxsize=8192)  # the same few variable names recur in every workload
def sensitive_name(name: str, extra: tuple[str, ...] = ()) -> bool:
    lowered = name.lower()
    parts = words(name)
    if not parts:
        return False
    if parts[-1] in NOT_A_VALUE_SUFFIXES or (
        len(parts) > 1 and f"{parts[-2]}_{parts[-1]}" in NOT_A_VALUE_SUFFIXES
    ):
        return False
    if any(word in SENSITIVE_WORDS or word.endswith(_PASSWORD_ENDINGS) for word in parts):
        return True  # PGPASSWORD, DBPASSWORD: a password word run together with what it opens
    if any(pair in SENSITIVE_PAIRS for pair in zip(parts, parts[1:], strict=False)):
        return True
    return any(fragment.lower() in lowered for fragment in extra)


def literal_worth_reporting(value) -> bool:
    """A value under a sensitive name that could be the credential itself."""
    if isinstance(value, bool) or value is None:
        return False
    text = str(value).strip()
    if not text or text.lower() in _BOOLEAN_OR_NULL or _REFERENCE.match(text):
        return False
    # A file path: the credential lives in a mounted file, which is what we want.
    absolute = text.startswith(("/", "./", "~/")) and " " not in text
    return not absolute and not _looks_like_relative_path(text)


def _looks_like_relative_path(text: str) -> bool:
    return (
        "/" in text
        and " " not in text
        and "://" not in text
        and "=" not in text
        and text.count("/") >= 2
        and (text.replace("/", "").replace("-", "").replace("_", "").replace(".", "").isalnum())
    )


def credential_shape(value) -> str | None:
    """What kind of credential the value looks like, whatever its name; None if none."""
    if not isinstance(value, str) or len(value) < 12:
        return None
    marker = parse_marker(value)
    if marker is not None:
        return marker[1]
    for label, pattern in CREDENTIAL_VALUE_PATTERNS:
        if pattern.search(value):
            return label
    return None


# In nsswitch.conf and PAM files "passwd" names the user database, not a password.
_SYSTEM_DATABASE_NAMES = frozenset({"passwd", "shadow"})
# A value that opens a list, map or block is structure, not a literal.
_STRUCTURE_OPENERS = frozenset({"[", "{", "|", ">", "&", "*"})
# ``name = value`` / ``name: value`` lines inside an embedded config file.
_ASSIGNMENT = re.compile(
    r"""^\s*(?:export\s+)?["']?([A-Za-z_][A-Za-z0-9_.\-]*)["']?\s*[:=]\s*(.*?)\s*,?\s*$"""
)


def sensitive_lines(text: str, extra: tuple[str, ...] = ()) -> list[tuple[int, str, str]]:
    """(line number, name, value) of each credential-looking assignment in a config file's text."""
    found = []
    for number, line in enumerate(text.splitlines(), start=1):
        if line.lstrip().startswith(("#", "//", ";")):
            continue
        match = _ASSIGNMENT.match(line)
        if not match:
            continue
        name, value = match.group(1), match.group(2).strip().strip("\"'")
        if name.lower() in _SYSTEM_DATABASE_NAMES or value[:1] in _STRUCTURE_OPENERS:
            continue
        if sensitive_name(name.rsplit(".", 1)[-1], extra) and literal_worth_reporting(value):
            found.append((number, name, value))
    return found


# --- Credentials in ConfigMap values, and what stored snapshots keep instead of them ---

_FILE_SUFFIXES = (".properties", ".conf", ".cfg", ".ini", ".env", ".yaml", ".yml", ".json", ".toml", ".xml",
                  ".txt", ".sh")  # fmt: skip


@dataclass(frozen=True, slots=True)
class ConfigCredential:
    """One credential found in a ConfigMap value: the whole value, or one line of a config file."""

    secret: str
    shape: str | None = None  # what it looks like ("an AWS access key"), when recognised by its form
    line: int | None = None  # for a config file: the line, with the assignment's ``name``
    name: str = ""


def configmap_credentials(key: str, value: str, extra: tuple[str, ...] = ()) -> list[ConfigCredential]:
    """The credentials secret-in-configmap reports for one ``data`` entry (and a stored snapshot masks)."""
    shape = credential_shape(value)
    if shape:
        return [ConfigCredential(secret=value, shape=shape)]
    is_file = "\n" in value.strip() or key.lower().endswith(_FILE_SUFFIXES)
    if not is_file:
        if sensitive_name(key, extra) and literal_worth_reporting(value):
            return [ConfigCredential(secret=value)]
        return []
    return [ConfigCredential(secret=secret, line=line, name=name) for line, name, secret in
            sensitive_lines(value, extra)]  # fmt: skip


# A snapshot Rampart stores holds a marker in place of each credential (see
# collectors.redact): the credential's length and kind, so that the checks report
# it again on every scan, and not one character of it.
_MARKER = re.compile(r"^rampart-redacted:(\d+):(.*)$")


def redaction_marker(secret: str, shape: str | None = None) -> str:
    return f"rampart-redacted:{len(secret)}:{shape or ''}"


def parse_marker(value) -> tuple[int, str | None] | None:
    """(original length, shape) when ``value`` is a redaction marker, else None."""
    match = _MARKER.match(value) if isinstance(value, str) else None
    return (int(match.group(1)), match.group(2) or None) if match else None
