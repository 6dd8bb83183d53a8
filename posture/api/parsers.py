"""Request bodies with a size limit: DRF's parsers would otherwise read any body whole into memory."""

from django.conf import settings
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

from posture.api.exceptions import PayloadTooLarge


def read_limited(stream, limit: int, declared: int | None = None) -> bytes:
    """Read at most ``limit`` bytes; refuse early on the declared length, and again while reading."""
    if declared is not None and declared > limit:
        raise PayloadTooLarge(f"The request body is larger than the {_size(limit)} limit.")
    chunks, total = [], 0
    while True:
        chunk = stream.read(min(64 * 1024, limit + 1 - total))
        if not chunk:
            return b"".join(chunks)
        total += len(chunk)
        if total > limit:
            raise PayloadTooLarge(f"The request body is larger than the {_size(limit)} limit.")
        chunks.append(chunk)


def declared_length(request) -> int | None:
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0) or None
    except ValueError:
        return None


def _size(limit: int) -> str:
    return f"{limit // (1024 * 1024)} MiB" if limit >= 1024 * 1024 else f"{limit // 1024} KiB"


MAX_DEPTH = 64  # no request Rampart takes nests deeper than a handful of levels


class LimitedJSONParser(JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        import io

        request = (parser_context or {}).get("request")
        declared = declared_length(request._request) if request is not None else None
        body = read_limited(stream, settings.DATA_UPLOAD_MAX_MEMORY_SIZE, declared) if stream else b""
        try:
            data = super().parse(io.BytesIO(body), media_type, parser_context)
        except RecursionError:  # a few KB of "[" nest past what the json module can read
            raise ParseError(_TOO_DEEP) from None
        refusal = _refusal(data)
        if refusal:
            raise ParseError(refusal)
        return data


_TOO_DEEP = f"The JSON is nested more than {MAX_DEPTH} levels deep."
_NOT_TEXT = "Text may not contain NUL characters or unpaired surrogates."


def storable_text(text: str) -> bool:
    """PostgreSQL stores no NUL character, and UTF-8 has no lone surrogates (valid in JSON escapes)."""
    if "\x00" in text:
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _refusal(value, depth: int = 0) -> str | None:
    """Why a parsed body cannot be taken, or None."""
    if depth > MAX_DEPTH:
        return _TOO_DEEP
    if isinstance(value, str):
        return None if storable_text(value) else _NOT_TEXT
    if isinstance(value, dict):
        for key, item in value.items():
            refusal = (None if storable_text(str(key)) else _NOT_TEXT) or _refusal(item, depth + 1)
            if refusal:
                return refusal
    if isinstance(value, list):
        for item in value:
            refusal = _refusal(item, depth + 1)
            if refusal:
                return refusal
    return None
