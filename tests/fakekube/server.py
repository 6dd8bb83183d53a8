"""A small Kubernetes API server that answers like the real one, for reads.

It serves a fixed set of objects over HTTP or HTTPS: ``/version``, discovery,
list endpoints (cluster-wide and per namespace) with ``limit``/``continue``,
metadata-only lists (``as=PartialObjectMetadataList``), and the error bodies a
real kube-apiserver sends (``Status`` objects for 401, 403, 404, 406, 410).
Every request is recorded so that tests can assert on what went over the wire.

    with FakeKube(objects, forbidden={"apps/deployments"}) as kube:
        kube.url, kube.ca_pem, kube.token, kube.requests
"""

import base64
import binascii
import copy
import http.server
import itertools
import json
import logging
import os
import secrets
import socket
import ssl
import tempfile
import threading
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlsplit

from tests.fakekube.catalogue import (
    ALL_VERBS,
    BUILTIN,
    CRD_GROUPS,
    CRDS,
    ApiResource,
    plural_of,
    split_api_version,
)
from tests.fakekube.pki import CertificateAuthority, KeyPair

logger = logging.getLogger(__name__)

DEFAULT_TOKEN = "fakekube-token-" + "0" * 24
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
class RecordedRequest:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]  # lower-case names
    status: int = 0
    body: bytes = b""  # what the server sent back (when recording bodies)
    user: str = ""

    @property
    def resource_path(self) -> str:
        return self.path


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


class FakeKube:
    """Start with ``start()`` or ``with``; stop with ``stop()``.

    ``forbidden``: resource keys ("pods", "apps/deployments") whose list answers 403.
    ``missing_groups``: API groups left out of discovery (their paths answer 404).
    ``crd_groups``: secret-manager groups to serve (also inferred from the objects).
    ``delay`` / ``delays``: seconds to wait before answering every request / paths starting with a key.
    ``expire_continue``: resource key -> how many requests carrying a continue token answer 410 Gone.
    ``errors``: resource key -> HTTP status (500, 429, 503) its list answers with.
    ``partial_metadata``: "supported", "not_acceptable" (406) or "ignored" (full objects, as a
    broken proxy might send).
    ``tls``: serve HTTPS with a CA of our own (``ca_pem``); ``server_hosts`` names the certificate.
    """

    def __init__(
        self,
        objects: Iterable[dict] = (),
        *,
        tls: bool = True,
        host: str = "127.0.0.1",
        port: int = 0,
        tokens: Mapping[str, str] | None = None,
        forbidden: Iterable[str] = (),
        missing_groups: Iterable[str] = (),
        crd_groups: Iterable[str] = (),
        delay: float = 0.0,
        delays: Mapping[str, float] | None = None,
        expire_continue: Mapping[str, int] | None = None,
        errors: Mapping[str, int] | None = None,
        partial_metadata: str = "supported",
        version: dict | None = None,
        server_hosts: Iterable[str] | None = None,
        expired_certificate: bool = False,
        record_bodies: bool = True,
    ):
        self.host = host
        self.port = port
        self.tls = tls
        self.tokens = (
            dict(tokens) if tokens is not None else {DEFAULT_TOKEN: "system:serviceaccount:rampart:scanner"}
        )
        self.forbidden = set(forbidden)
        self.missing_groups = set(missing_groups)
        self.delay = delay
        self.delays = dict(delays or {})
        self.expire_continue = dict(expire_continue or {})
        self.errors = dict(errors or {})
        if partial_metadata not in ("supported", "not_acceptable", "ignored"):
            raise ValueError(f"partial_metadata: unknown behaviour {partial_metadata!r}")
        self.partial_metadata = partial_metadata
        self.version = dict(version or DEFAULT_VERSION)
        self.server_hosts = (
            list(server_hosts) if server_hosts is not None else ["localhost", "127.0.0.1", "::1"]
        )
        self.expired_certificate = expired_certificate
        self.record_bodies = record_bodies
        self.requests: list[RecordedRequest] = []
        self.tls_failures = 0
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._resource_version = itertools.count(1000)
        self._epoch = 0
        self._ca: CertificateAuthority | None = None
        self._untrusted_ca: CertificateAuthority | None = None
        self._server: http.server.ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._tempdir: tempfile.TemporaryDirectory | None = None
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

    @property
    def ca(self) -> CertificateAuthority:
        if self._ca is None:
            self._ca = CertificateAuthority("fakekube-ca")
        return self._ca

    @property
    def ca_pem(self) -> str:
        """The CA that signed the server's certificate: give it to the client to trust."""
        return self.ca.cert_pem

    @property
    def untrusted_ca_pem(self) -> str:
        """A CA that did not sign the server's certificate: TLS verification must fail with it."""
        if self._untrusted_ca is None:
            self._untrusted_ca = CertificateAuthority("some-other-ca")
        return self._untrusted_ca.cert_pem

    @property
    def token(self) -> str:
        return next(iter(self.tokens))

    def issue_client_certificate(self, user: str = "rampart-scanner") -> KeyPair:
        """A client certificate the server accepts (signed by its CA)."""
        return self.ca.issue_client(user)

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{'https' if self.tls else 'http'}://{host}:{self.port}"

    def expire_continue_tokens(self) -> None:
        """Make every continue token issued so far stale, like an etcd compaction."""
        with self._lock:
            self._epoch += 1

    def clear_requests(self) -> None:
        with self._lock:
            self.requests.clear()

    def requests_to(self, path: str) -> list[RecordedRequest]:
        return [request for request in self.requests if request.path == path]

    def kubeconfig(
        self,
        *,
        token: str | None = None,
        context: str = "fakekube",
        ca_pem: str | None = None,
        client_certificate: KeyPair | None = None,
        extra_contexts: Iterable[str] = (),
    ) -> dict:
        """A kubeconfig (as a dict) that reaches this server."""
        cluster: dict = {"server": self.url}
        if self.tls:
            cluster["certificate-authority-data"] = base64.b64encode(
                (ca_pem or self.ca_pem).encode()
            ).decode()
        user: dict = {}
        if client_certificate is not None:
            user["client-certificate-data"] = base64.b64encode(client_certificate.cert_pem.encode()).decode()
            user["client-key-data"] = base64.b64encode(client_certificate.key_pem.encode()).decode()
        else:
            user["token"] = token or self.token
        names = [context, *extra_contexts]
        return {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": f"{name}-cluster", "cluster": cluster} for name in names],
            "users": [{"name": f"{name}-user", "user": user} for name in names],
            "contexts": [
                {"name": name, "context": {"cluster": f"{name}-cluster", "user": f"{name}-user"}}
                for name in names
            ],
            "current-context": context,
            "preferences": {},
        }

    # --- lifecycle ---------------------------------------------------------------

    def start(self) -> "FakeKube":
        handler = type("BoundHandler", (_Handler,), {"kube": self})
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        server_class = type("FakeKubeHTTPServer", (_Server,), {"address_family": family})
        self._server = server_class((self.host, self.port), handler)
        self.port = self._server.server_address[1]
        if self.tls:
            self._server.ssl_context = self._ssl_context()
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"fakekube:{self.port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def _ssl_context(self) -> ssl.SSLContext:
        pair = self.ca.issue_server(self.server_hosts, expired=self.expired_certificate)
        self._tempdir = tempfile.TemporaryDirectory(prefix="fakekube-")
        cert_path = os.path.join(self._tempdir.name, "apiserver.crt")
        key_path = os.path.join(self._tempdir.name, "apiserver.key")
        with open(cert_path, "w") as handle:
            handle.write(pair.cert_pem)
        with open(os.open(key_path, os.O_WRONLY | os.O_CREAT, 0o600), "w") as handle:
            handle.write(pair.key_pem)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        context.load_cert_chain(cert_path, key_path)
        # Client certificates are optional, as on a real API server: tokens work too.
        context.verify_mode = ssl.CERT_OPTIONAL
        context.load_verify_locations(cadata=self.ca_pem)
        return context

    def stop(self) -> None:
        self._stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        if self._tempdir is not None:
            self._tempdir.cleanup()
            self._tempdir = None

    def __enter__(self) -> "FakeKube":
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()

    # --- answering -----------------------------------------------------------------

    def _delay_for(self, path: str) -> float:
        matches = [
            seconds for prefix, seconds in self.delays.items() if path == prefix or path.startswith(prefix)
        ]
        return max(matches, default=self.delay)

    def _authenticate(self, headers: Mapping[str, str], peer_user: str | None) -> str | None:
        authorization = headers.get("authorization", "")
        if authorization:
            scheme, _, token = authorization.partition(" ")
            return self.tokens.get(token.strip()) if scheme.lower() == "bearer" else None
        return peer_user

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
                        {"clientCIDR": "0.0.0.0/0", "serverAddress": f"{self.host}:{self.port}"}
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
        versions = resources[0].served_versions
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
        scope = f"{resource.key}|{namespace}"
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


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    ssl_context: ssl.SSLContext | None = None

    def get_request(self):
        sock, address = self.socket.accept()
        if self.ssl_context is not None:
            # The handshake happens in the handler's thread, so that a stuck
            # client cannot block the accept loop.
            sock = self.ssl_context.wrap_socket(sock, server_side=True, do_handshake_on_connect=False)
        return sock, address

    def handle_error(self, request, client_address) -> None:
        # Clients that hang up or reject our certificate are part of the tests, not errors.
        logger.debug("fakekube: connection from %s ended early", client_address)


class _Handler(http.server.BaseHTTPRequestHandler):
    kube: FakeKube
    protocol_version = "HTTP/1.1"
    server_version = "fakekube"
    sys_version = ""
    timeout = 30

    def setup(self) -> None:
        self.peer_user: str | None = None
        if isinstance(self.request, ssl.SSLSocket):
            self.request.settimeout(self.timeout)
            try:
                self.request.do_handshake()
            except (ssl.SSLError, OSError):
                with self.kube._lock:
                    self.kube.tls_failures += 1
                raise
            peer = self.request.getpeercert()
            if peer:
                subject = dict(item for rdn in peer.get("subject", ()) for item in rdn)
                self.peer_user = subject.get("commonName")
        super().setup()

    def log_message(self, format: str, *args) -> None:  # noqa: A002 - the base class's signature
        logger.debug("fakekube: %s", format % args)

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        self._respond("GET")

    def do_POST(self) -> None:  # noqa: N802
        self._respond("POST")

    def _respond(self, method: str) -> None:
        kube = self.kube
        split = urlsplit(self.path)
        query = {key: values[-1] for key, values in parse_qs(split.query, keep_blank_values=True).items()}
        headers = {key.lower(): value for key, value in self.headers.items()}
        record = RecordedRequest(method=method, path=split.path, query=query, headers=headers)
        with kube._lock:
            kube.requests.append(record)
        wait = kube._delay_for(split.path)
        if wait and kube._stopping.wait(wait):
            return
        user = kube._authenticate(headers, self.peer_user)
        status, body, content_type = kube.answer(method, split.path, query, headers, user)
        data = body if isinstance(body, bytes) else json.dumps(body, separators=(",", ":")).encode()
        record.status, record.user = status, user or ""
        if kube.record_bodies:
            record.body = data
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Audit-Id", str(uuid.uuid4()))
        self.end_headers()
        self.wfile.write(data)
