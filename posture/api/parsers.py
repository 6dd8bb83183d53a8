"""Request bodies with a size limit: DRF's parsers would otherwise read any body whole into memory."""

from django.conf import settings
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
        return super().parse(io.BytesIO(body), media_type, parser_context)
