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


class LimitedJSONParser(JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        import io

        request = (parser_context or {}).get("request")
        declared = declared_length(request._request) if request is not None else None
        body = read_limited(stream, settings.DATA_UPLOAD_MAX_MEMORY_SIZE, declared) if stream else b""
        data = super().parse(io.BytesIO(body), media_type, parser_context)
        if not storable(data):
            raise ParseError("Text may not contain NUL characters or unpaired surrogates.")
        return data


def storable_text(text: str) -> bool:
    """PostgreSQL stores no NUL character, and UTF-8 has no lone surrogates (valid in JSON escapes)."""
    if "\x00" in text:
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def storable(value, depth: int = 0) -> bool:
    if depth > 64:
        return False
    if isinstance(value, str):
        return storable_text(value)
    if isinstance(value, dict):
        return all(storable_text(str(key)) and storable(item, depth + 1) for key, item in value.items())
    if isinstance(value, list):
        return all(storable(item, depth + 1) for item in value)
    return True
