"""The fake API server on the network: HTTP or HTTPS, bearer tokens and client certificates.

    with FakeKube(objects, forbidden={"apps/deployments"}) as kube:
        kube.url, kube.ca_pem, kube.token, kube.requests

Every request is recorded (path, query, headers, status, and the bytes sent
back) so that tests can assert on what went over the wire.
"""

import base64
import http.server
import json
import logging
import os
import socket
import ssl
import tempfile
import threading
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

from tests.fakekube.api import FakeApi
from tests.fakekube.pki import CertificateAuthority, KeyPair

logger = logging.getLogger(__name__)

DEFAULT_TOKEN = "fakekube-token-" + "0" * 24


@dataclass
class RecordedRequest:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]  # lower-case names
    status: int = 0
    body: bytes = b""  # what the server sent back (when recording bodies)
    user: str = ""


class FakeKube(FakeApi):
    """A FakeApi served over the network. Start with ``start()`` or ``with``; stop with ``stop()``.

    API behaviour (forbidden resources, missing groups, expiring continue tokens...) is
    FakeApi's; see its docstring. Here: ``tls`` serves HTTPS with a CA of our own
    (``ca_pem``) and a certificate for ``server_hosts``; ``tokens`` maps bearer tokens
    to user names (client certificates signed by the CA work too); ``delay`` / ``delays``
    wait that many seconds before answering every request / paths starting with a key.
    """

    def __init__(
        self,
        objects: Iterable[dict] = (),
        *,
        tls: bool = True,
        host: str = "127.0.0.1",
        port: int = 0,
        tokens: Mapping[str, str] | None = None,
        delay: float = 0.0,
        delays: Mapping[str, float] | None = None,
        server_hosts: Iterable[str] | None = None,
        expired_certificate: bool = False,
        record_bodies: bool = True,
        record: bool = True,
        **behaviour,
    ):
        super().__init__(objects, **behaviour)
        self.host = host
        self.port = port
        self.tls = tls
        self.tokens = (
            dict(tokens) if tokens is not None else {DEFAULT_TOKEN: "system:serviceaccount:rampart:scanner"}
        )
        self.delay = delay
        self.delays = dict(delays or {})
        self.server_hosts = (
            list(server_hosts) if server_hosts is not None else ["localhost", "127.0.0.1", "::1"]
        )
        self.expired_certificate = expired_certificate
        self.record_bodies = record_bodies
        self.record = record  # False for a long-running demo: nothing accumulates
        self.requests: list[RecordedRequest] = []
        self.tls_failures = 0
        self.on_request: Callable[[RecordedRequest], None] | None = None  # called after each answer
        self._stopping = threading.Event()
        self._ca: CertificateAuthority | None = None
        self._untrusted_ca: CertificateAuthority | None = None
        self._server: http.server.ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._tempdir: tempfile.TemporaryDirectory | None = None

    # --- trust and credentials ------------------------------------------------------

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
    def server_address(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{'https' if self.tls else 'http'}://{host}:{self.port}"

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
        # Go's net/http (and so kube-apiserver) disables Nagle; without this the
        # headers-then-body writes cost a 40 ms delayed ACK per request.
        self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
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
        if kube.record:
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
        retry_after = (body.get("details") or {}).get("retryAfterSeconds") if isinstance(body, dict) else None
        if retry_after is not None:
            self.send_header("Retry-After", str(retry_after))
        self.end_headers()
        self.wfile.write(data)
        if kube.on_request is not None:
            kube.on_request(record)
