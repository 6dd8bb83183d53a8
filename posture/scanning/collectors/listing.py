"""Listing one resource type page by page, as raw JSON into plain dicts.

List items arrive without ``kind`` and ``apiVersion``: both are set here from
the resource type. Secrets (``METADATA_ONLY``) are requested only as
``PartialObjectMetadataList``; an answer in any other shape is thrown away.
"""

import logging

import orjson

from posture.scanning.collectors.redact import redact
from posture.scanning.collectors.resources import METADATA_ONLY, ResourceType
from posture.scanning.collectors.transport import Response, Transport, TransportError, describe_status

logger = logging.getLogger(__name__)

JSON = "application/json"
# The only media type Secrets are requested in: object metadata, never data.
PARTIAL_METADATA = "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1"
# Annotations that copy a whole object, values included (kubectl apply writes it).


class Unreadable(Exception):
    """One resource type could not be read; ``status`` as in ResourceAccess."""

    def __init__(self, status: str, reason: str):
        super().__init__(reason)
        self.status = status
        self.reason = reason


def read_all(
    transport: Transport, rtype: ResourceType, version: str, page_size: int, max_pages: int | None = None
) -> list[dict]:
    """Every object of one type, page by page.

    A continue token that expires (410 Gone) restarts the list from the start
    once, still paged: one restart recovers from the usual cause (a slow
    moment during an etcd compaction) without mixing objects from two
    resource versions, and paging keeps memory flat on large clusters. A
    second expiry becomes a coverage gap rather than an endless loop.
    """
    metadata_only = (rtype.group, rtype.plural) in METADATA_ONLY
    accept = PARTIAL_METADATA if metadata_only else JSON
    path = rtype.path(version)
    api_version = f"{rtype.group}/{version}" if rtype.group else version
    objects: list[dict] = []
    token = ""
    restarted = False
    pages = 0
    while True:
        query = [("limit", page_size)] + ([("continue", token)] if token else [])
        try:
            response = transport.get(path, query, accept=accept)
        except TransportError as exc:
            raise Unreadable("timeout" if exc.timeout else "error", exc.message) from None
        transport.raise_if_unauthorized(response)
        if response.status == 410 and token:
            if restarted:
                raise Unreadable(
                    "error",
                    f"the list of {rtype.plural} expired twice while paging (410 Gone); "
                    "the cluster's objects change faster than Rampart can page through them",
                )
            logger.info(
                "%s: continue token for %s expired; restarting the list once", transport.api_url, path
            )
            restarted, token, objects, pages = True, "", [], 0
            continue
        if response.status != 200:
            raise _status_unreadable(rtype, response, metadata_only)
        try:
            document = orjson.loads(response.body)
        except orjson.JSONDecodeError:
            raise Unreadable("error", f"the API server sent an unreadable list of {rtype.plural}") from None
        if not isinstance(document, dict) or not isinstance(document.get("items"), list):
            raise Unreadable("error", f"the API server sent an unreadable list of {rtype.plural}")
        if metadata_only and document.get("kind") != "PartialObjectMetadataList":
            # The server ignored the metadata-only request: drop everything it sent.
            raise Unreadable(
                "error",
                f"the API server cannot list {rtype.plural} as metadata only; they were "
                "not read, so their values never reach Rampart",
            )
        if metadata_only:
            objects.extend(_metadata_only(item, rtype, api_version) for item in document["items"])
        else:
            for item in document["items"]:
                if isinstance(item, dict):
                    item["kind"] = rtype.kind
                    item["apiVersion"] = api_version
                    objects.append(redact(item))
        pages += 1
        next_token = (document.get("metadata") or {}).get("continue") or ""
        if not next_token or (max_pages is not None and pages >= max_pages):
            return objects
        if next_token == token:
            raise Unreadable(
                "error", f"the API server returned the same continue token twice for {rtype.plural}"
            )
        token = str(next_token)


def _metadata_only(item: dict, rtype: ResourceType, api_version: str) -> dict:
    metadata = dict(item.get("metadata") or {}) if isinstance(item, dict) else {}
    return redact({"apiVersion": api_version, "kind": rtype.kind, "metadata": metadata})


def _status_unreadable(rtype: ResourceType, response: Response, metadata_only: bool) -> Unreadable:
    status = response.status
    detail = describe_status(response)
    if status == 403:
        message = _status_message(response)
        # "pods is forbidden: User "x" cannot list ..." -> "forbidden: User "x" cannot list ..."
        _, _, who = message.partition(" is forbidden: ")
        return Unreadable("forbidden", f"forbidden: {who or message or detail}")
    if status == 429:
        return Unreadable(
            "error", f"the API server kept throttling Rampart, even after waiting and asking again: {detail}"
        )
    if status == 404:
        return Unreadable(
            "not_served", f"not served by this cluster ({rtype.group_version} {rtype.plural}: 404 Not Found)"
        )
    if status == 406 and metadata_only:
        return Unreadable(
            "error",
            f"the API server cannot list {rtype.plural} as metadata only (406 Not "
            "Acceptable); they were not read, so their values never reach Rampart",
        )
    return Unreadable("error", f"the API server answered {detail}")


def _status_message(response: Response) -> str:
    try:
        body = orjson.loads(response.body)
    except orjson.JSONDecodeError:
        return ""
    return " ".join(str(body.get("message") or "").split())[:300] if isinstance(body, dict) else ""
