"""The API server's behaviour, without the network: what it answers to each read.

``FakeApi.answer(method, path, query, headers, user)`` returns (status, body,
content type) the way kube-apiserver would: discovery documents, lists with
``limit``/``continue`` (opaque tokens; 410 Gone once they expire), items without
kind and apiVersion for built-in types, metadata-only lists when the Accept
header asks for ``as=PartialObjectMetadataList``, and ``Status`` bodies for errors.
"""

import base64
import binascii
import copy
import itertools
import json
import secrets
import threading
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from tests.fakekube.catalogue import (
    ALL_VERBS,
    BUILTIN,
    CRD_GROUPS,
    CRDS,
    ApiResource,
    plural_of,
    split_api_version,
)

DEFAULT_VERSION = {
    "major": "1",
    "minor": "31",
    "gitVersion": "v1.31.4",
    "gitCommit": "a78aa47129b8539636eb86a9d00e31b2720fe06b",
    "gitTreeState": "clean",
    "buildDate": "2024-12-10T18:38:15Z",
    "goVersion": "go1.22.9",
    "compiler": "gc",
    "platform": "linux/amd64",
}
PARTIAL_METADATA_LIST = "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1"
_FIXED_TIMESTAMP = "2026-01-05T09:00:00Z"
_EXPIRED_MESSAGE = (
    "The provided continue parameter is too old to display a consistent list result. You can start a new "
    "list without the continue parameter, or use the continue token in this response to retrieve the "
    "remainder of the results. Continuing with the provided token results in an inconsistent list - objects "
    "that were created, modified, or deleted between the time the first chunk was returned and now may show "
    "up in the list."
)


@dataclass
class _Stored:
    resource: ApiResource
    objects: list[dict] = field(default_factory=list)


def status_body(code: int, reason: str, message: str, details: dict | None = None, **extra) -> dict:
    body = {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": extra.pop("metadata", {}),
        "status": "Failure",
        "message": message,
        "reason": reason,
        "code": code,
    }
    if details is not None:
        body["details"] = details
    return body


# What the API server answers when API Priority and Fairness rejects a request; the
# server sends retryAfterSeconds as a Retry-After header as well.
RETRY_AFTER_SECONDS = 1


def too_many_requests() -> dict:
    return status_body(
        429,
        "TooManyRequests",
        "Too many requests, please try again later.",
        {"retryAfterSeconds": RETRY_AFTER_SECONDS},
    )


class FakeApi:
    """Objects and the rules for serving them.

    ``forbidden``: resource keys ("pods", "apps/deployments") whose reads answer 403.
    ``missing_groups``: API groups left out of discovery (their paths answer 404).
    ``crd_groups``: secret-manager groups to serve (also inferred from the objects).
    ``expire_continue``: resource key -> how many requests carrying a continue token answer 410 Gone.
    ``errors``: resource key -> HTTP status (500, 429, 503) its list answers with.
    ``throttled``: resource key -> how many of its list requests answer 429 Too Many Requests (with
    Retry-After, as API Priority and Fairness does) before it serves them.
    ``partial_metadata``: "supported", "not_acceptable" (406) or "ignored" (full objects, as a
    broken proxy might send).
    """

    def __init__(
        self,
        objects: Iterable[dict] = (),
        *,
        forbidden: Iterable[str] = (),
        missing_groups: Iterable[str] = (),
        crd_groups: Iterable[str] = (),
        expire_continue: Mapping[str, int] | None = None,
        errors: Mapping[str, int] | None = None,
        throttled: Mapping[str, int] | None = None,
        partial_metadata: str = "supported",
        version: dict | None = None,
    ):
        self.forbidden = set(forbidden)
        self.missing_groups = set(missing_groups)
        self.expire_continue = dict(expire_continue or {})
        self.errors = dict(errors or {})
        self.throttled = dict(throttled or {})
        if partial_metadata not in ("supported", "not_acceptable", "ignored"):
            raise ValueError(f"partial_metadata: unknown behaviour {partial_metadata!r}")
        self.partial_metadata = partial_metadata
        self.version = dict(version or DEFAULT_VERSION)
        self._lock = threading.Lock()
        self._resource_version = itertools.count(1000)
        self._epoch = 0
        self._resources: dict[tuple[str, str], ApiResource] = {}  # (group, plural)
        self._by_kind: dict[tuple[str, str], ApiResource] = {}  # (group, kind)
        for resource in BUILTIN:
            self._register(resource)
        groups = set(crd_groups)
        objects = list(objects)
        for obj in objects:
            group, _ = split_api_version(str(obj.get("apiVersion", "")))
            if group in CRD_GROUPS:
                groups.add(group)
        for resource in CRDS:
            if resource.group in groups:
                self._register(resource)
        self._store: dict[tuple[str, str], _Stored] = {
            key: _Stored(res) for key, res in self._resources.items()
        }
        for obj in objects:
            self.add(obj)

    # --- set-up ------------------------------------------------------------------

    def _register(self, resource: ApiResource) -> None:
        self._resources[(resource.group, resource.plural)] = resource
        self._by_kind[(resource.group, resource.kind)] = resource

    def add(self, obj: dict) -> dict:
        """Store a copy of ``obj`` the way the API server would (uid, resourceVersion...)."""
        group, version = split_api_version(str(obj.get("apiVersion", "")))
        kind = str(obj.get("kind", ""))
        resource = self._by_kind.get((group, kind))
        if resource is None:  # an unknown custom resource: serve it under its own group
            resource = ApiResource(
                group, version, plural_of(kind), kind, bool(obj.get("metadata", {}).get("namespace"))
            )
            self._register(resource)
            self._store[(group, resource.plural)] = _Stored(resource)
        stored = copy.deepcopy(obj)
        metadata = stored.setdefault("metadata", {})
        if resource.namespaced:
            metadata.setdefault("namespace", "default")
        name = f"{resource.plural}/{metadata.get('namespace', '')}/{metadata.get('name', '')}"
        metadata.setdefault("uid", str(uuid.uuid5(uuid.NAMESPACE_URL, name)))
        metadata.setdefault("resourceVersion", str(next(self._resource_version)))
        metadata.setdefault("creationTimestamp", _FIXED_TIMESTAMP)
        items = self._store[(group, resource.plural)].objects
        items.append(stored)
        items.sort(key=lambda o: (o["metadata"].get("namespace", ""), o["metadata"].get("name", "")))
        return stored

    def expire_continue_tokens(self) -> None:
        """Make every continue token issued so far stale, like an etcd compaction."""
        with self._lock:
            self._epoch += 1

    @property
    def server_address(self) -> str:
        return "127.0.0.1:6443"

    def _served_groups(self) -> dict[str, list[ApiResource]]:
        groups: dict[str, list[ApiResource]] = {}
        for resource in self._resources.values():
            if resource.group and resource.group not in self.missing_groups:
                groups.setdefault(resource.group, []).append(resource)
        return groups

    def answer(
        self, method: str, path: str, query: dict[str, str], headers: Mapping[str, str], user: str | None
    ) -> tuple[int, dict | bytes, str]:
        """(status, body, content type) for one request; ``user`` is None when unauthenticated."""
        if user is None:
            return 401, status_body(401, "Unauthorized", "Unauthorized"), "application/json"
        if method != "GET":
            return (
                405,
                status_body(
                    405,
                    "MethodNotAllowed",
                    "the server does not allow this method on the requested resource",
                    {},
                ),
                "application/json",
            )
        if path == "/version":
            return 200, self.version, "application/json"
        if path == "/api":
            return (
                200,
                {
                    "kind": "APIVersions",
                    "versions": ["v1"],
                    "serverAddressByClientCIDRs": [
                        {"clientCIDR": "0.0.0.0/0", "serverAddress": self.server_address}
                    ],
                },
                "application/json",
            )
        if path == "/apis":
            return 200, self._group_list(), "application/json"
        parts = [part for part in path.split("/") if part]
        if parts[:2] == ["api", "v1"]:
            return self._answer_group("", "v1", parts[2:], query, headers, user)
        if parts[:1] == ["apis"] and len(parts) == 2:
            group = parts[1]
            if group in self._served_groups():
                return 200, self._group(group), "application/json"
        if parts[:1] == ["apis"] and len(parts) >= 3:
            return self._answer_group(parts[1], parts[2], parts[3:], query, headers, user)
        return _not_found()

    def _group(self, group: str) -> dict:
        resources = self._served_groups()[group]
        # As an API server lists them: every version any of the group's types is served at, the
        # first type's preferred first (the Gateway API serves TCPRoute only at v1alpha2).
        versions = list(
            dict.fromkeys(version for resource in resources for version in resource.served_versions)
        )
        entries = [{"groupVersion": f"{group}/{version}", "version": version} for version in versions]
        return {
            "kind": "APIGroup",
            "apiVersion": "v1",
            "name": group,
            "versions": entries,
            "preferredVersion": entries[0],
        }

    def _group_list(self) -> dict:
        groups = [self._group(group) for group in self._served_groups()]
        return {"kind": "APIGroupList", "apiVersion": "v1", "groups": groups}

    def _resource_list(self, group: str, version: str) -> dict:
        group_version = f"{group}/{version}" if group else version
        resources = [
            {
                "name": resource.plural,
                "singularName": resource.kind.lower(),
                "namespaced": resource.namespaced,
                "kind": resource.kind,
                "verbs": ALL_VERBS,
                "storageVersionHash": "fake",
            }
            for resource in self._resources.values()
            if resource.group == group and version in resource.served_versions
        ]
        return {
            "kind": "APIResourceList",
            "apiVersion": "v1",
            "groupVersion": group_version,
            "resources": resources,
        }

    def _answer_group(self, group, version, rest, query, headers, user):
        if group and (group in self.missing_groups or group not in self._served_groups()):
            return _not_found()
        if not any(r.group == group and version in r.served_versions for r in self._resources.values()):
            return _not_found()
        if not rest:
            return 200, self._resource_list(group, version), "application/json"
        namespace = ""
        if rest[0] == "namespaces" and len(rest) >= 3:
            namespace, rest = rest[1], rest[2:]
        resource = self._resources.get((group, rest[0]))
        if (
            resource is None
            or version not in resource.served_versions
            or (namespace and not resource.namespaced)
        ):
            return _not_found()
        if len(rest) > 2:
            return _not_found()
        name = rest[1] if len(rest) == 2 else None
        verb = "get" if name else "list"
        if resource.key in self.forbidden:
            return 403, self._forbidden(resource, verb, namespace, user), "application/json"
        if self.throttled.get(resource.key):
            with self._lock:
                self.throttled[resource.key] -= 1
            return 429, too_many_requests(), "application/json"
        if resource.key in self.errors:
            code = self.errors[resource.key]
            reason = {429: "TooManyRequests", 500: "InternalError", 503: "ServiceUnavailable"}.get(
                code, "Unknown"
            )
            return (
                code,
                status_body(code, reason, f"fake error {code} for {resource.key}", {}),
                "application/json",
            )
        items = self._store[(group, resource.plural)].objects
        if namespace:
            items = [obj for obj in items if obj["metadata"].get("namespace") == namespace]
        if name is not None:
            found = [obj for obj in items if obj["metadata"].get("name") == name]
            if not found:
                return (
                    404,
                    status_body(
                        404,
                        "NotFound",
                        f'{resource.plural} "{name}" not found',
                        {"name": name, "group": group, "kind": resource.plural},
                    ),
                    "application/json",
                )
            return 200, self._full(found[0], resource, version), "application/json"
        return self._list(resource, version, namespace, items, query, headers)

    def _forbidden(self, resource: ApiResource, verb: str, namespace: str, user: str) -> dict:
        scope = f'in the namespace "{namespace}"' if namespace else "at the cluster scope"
        message = (
            f'{resource.plural} is forbidden: User "{user}" cannot {verb} resource "{resource.plural}" '
            f'in API group "{resource.group}" {scope}'
        )
        details = (
            {"kind": resource.plural}
            if not resource.group
            else {"group": resource.group, "kind": resource.plural}
        )
        return status_body(403, "Forbidden", message, details)

    def _full(self, obj: dict, resource: ApiResource, version: str) -> dict:
        group_version = f"{resource.group}/{version}" if resource.group else version
        return {
            "kind": resource.kind,
            "apiVersion": group_version,
            **{k: v for k, v in obj.items() if k not in ("kind", "apiVersion")},
        }

    def _list(self, resource, version, namespace, items, query, headers):
        accept = headers.get("accept", "") or "application/json"
        wants_partial = _wants_partial_metadata(accept)
        if wants_partial is None:
            return (
                406,
                status_body(
                    406,
                    "NotAcceptable",
                    "only the following media types are accepted: "
                    "application/json, application/yaml, application/vnd.kubernetes.protobuf",
                    {},
                ),
                "application/json",
            )
        if wants_partial and self.partial_metadata == "not_acceptable":
            return (
                406,
                status_body(
                    406,
                    "NotAcceptable",
                    "only the following media types are accepted: "
                    "application/json, application/yaml, application/vnd.kubernetes.protobuf",
                    {},
                ),
                "application/json",
            )
        partial = wants_partial and self.partial_metadata == "supported"
        try:
            limit = int(query.get("limit") or 0)
        except ValueError:
            return (
                400,
                status_body(400, "BadRequest", f"invalid limit {query['limit']!r}", {}),
                "application/json",
            )
        selected = _field_selected(items, query.get("fieldSelector") or "")
        if selected is None:
            return (
                400,
                status_body(400, "BadRequest", f"field label not supported: {query['fieldSelector']}", {}),
                "application/json",
            )
        items = selected
        scope = f"{resource.key}|{namespace}|{query.get('fieldSelector') or ''}"
        start = 0
        with self._lock:
            resource_version = str(next(self._resource_version))
            epoch = self._epoch
        token = query.get("continue")
        if token:
            try:
                state = json.loads(base64.urlsafe_b64decode(token.encode()))
                start, resource_version, token_epoch, token_scope = (
                    int(state["o"]),
                    str(state["rv"]),
                    int(state["e"]),
                    state["s"],
                )
            except (ValueError, KeyError, TypeError, binascii.Error):
                return (
                    400,
                    status_body(
                        400,
                        "BadRequest",
                        "continue key is not valid: incorrect encoded start "
                        "resourceVersion (version meta.k8s.io/v1)",
                        {},
                    ),
                    "application/json",
                )
            if token_scope != scope:
                return (
                    400,
                    status_body(
                        400, "BadRequest", "continue key is not valid: key does not match the request", {}
                    ),
                    "application/json",
                )
            with self._lock:
                remaining_expiries = self.expire_continue.get(resource.key, 0)
                if remaining_expiries:
                    self.expire_continue[resource.key] = remaining_expiries - 1
            if remaining_expiries or token_epoch != epoch:
                fresh = self._token(start, str(next(self._resource_version)), epoch, scope)
                return (
                    410,
                    status_body(
                        410,
                        "Expired",
                        _EXPIRED_MESSAGE,
                        metadata={"continue": fresh},
                    ),
                    "application/json",
                )
        end = len(items) if limit <= 0 else min(start + limit, len(items))
        page = items[start:end]
        list_metadata: dict = {"resourceVersion": resource_version}
        if end < len(items):
            list_metadata["continue"] = self._token(end, resource_version, epoch, scope)
            list_metadata["remainingItemCount"] = len(items) - end
        group_version = f"{resource.group}/{version}" if resource.group else version
        if partial:
            body = {
                "kind": "PartialObjectMetadataList",
                "apiVersion": "meta.k8s.io/v1",
                "metadata": list_metadata,
                "items": [
                    {
                        "kind": "PartialObjectMetadata",
                        "apiVersion": "meta.k8s.io/v1",
                        "metadata": copy.deepcopy(obj["metadata"]),
                    }
                    for obj in page
                ],
            }
            return 200, body, PARTIAL_METADATA_LIST
        if (resource.group, resource.plural) not in _BUILTIN_KEYS:
            # Custom resources are served unstructured: their items keep kind and apiVersion.
            rendered = [self._full(obj, resource, version) for obj in page]
        else:
            # Built-in types drop kind and apiVersion from list items, as the real server does.
            rendered = [{k: v for k, v in obj.items() if k not in ("kind", "apiVersion")} for obj in page]
        body = {
            "kind": f"{resource.kind}List",
            "apiVersion": group_version,
            "metadata": list_metadata,
            "items": rendered,
        }
        return 200, body, "application/json"

    @staticmethod
    def _token(offset: int, resource_version: str, epoch: int, scope: str) -> str:
        raw = json.dumps(
            {"o": offset, "rv": resource_version, "e": epoch, "s": scope, "n": secrets.token_hex(4)}
        )
        return base64.urlsafe_b64encode(raw.encode()).decode()


_BUILTIN_KEYS = frozenset((r.group, r.plural) for r in BUILTIN)


def _not_found() -> tuple[int, dict, str]:
    return (
        404,
        status_body(404, "NotFound", "the server could not find the requested resource", {}),
        "application/json",
    )


def _wants_partial_metadata(accept: str) -> bool | None:
    """True for a metadata-only list, False for a full one, None when nothing acceptable was asked for."""
    for media_range in accept.split(","):
        kind, *params = (piece.strip() for piece in media_range.split(";"))
        options = dict(param.partition("=")[::2] for param in params)
        if kind not in ("application/json", "*/*", "application/*"):
            continue
        if options.get("as") == "PartialObjectMetadataList" and options.get("g") == "meta.k8s.io":
            return True
        if "as" not in options:
            return False
    return None


def _field_selected(items: list[dict], selector: str) -> list[dict] | None:
    """The items a ``fieldSelector`` of ``metadata.name``/``metadata.namespace`` equalities selects
    (the fields every type supports); None for any other field, which the API server refuses."""
    for term in filter(None, selector.split(",")):
        field, equals, value = term.partition("=")
        value = value.lstrip("=")  # "==" is allowed too
        if not equals or field not in ("metadata.name", "metadata.namespace"):
            return None
        key = field.partition(".")[2]
        items = [item for item in items if (item.get("metadata") or {}).get(key, "") == value]
    return items
