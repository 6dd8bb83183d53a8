"""How Rampart reaches a live cluster: the plain values, checked, and the HTTP client built from them.

``connection_from()`` turns what a Cluster stores (mode, API URL, credentials,
CA bundle, context) into a ``Connection``; every problem is an
``InvalidConnection`` with one line the user can act on. Nothing here touches
Django or the network.
"""

import ipaddress
import logging
import os
import shutil
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import SplitResult, urlsplit

import urllib3
from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from kubernetes.client import ApiClient, Configuration

from posture.scanning.collectors.errors import CollectionError
from posture.scanning.collectors.metadata_guard import guard, resolves_to_metadata

logger = logging.getLogger(__name__)

SERVICE_ACCOUNT_DIR = Path("/var/run/secrets/kubernetes.io/serviceaccount")
USER_AGENT = "rampart-posture-scanner/0.1 (read-only)"
MODES = ("kubeconfig", "token", "in_cluster")
_MAX_TOKEN_LENGTH = 16 * 1024


class InvalidConnection(CollectionError):
    """The connection settings themselves are unusable (before any network traffic)."""


@dataclass(frozen=True)
class Connection:
    """Everything needed to talk to one API server. Secrets are left out of ``repr``."""

    mode: str
    api_url: str
    token: str = field(default="", repr=False)
    ca_pem: str = ""  # empty: the system's trust store
    client_cert_pem: str = field(default="", repr=False)
    client_key_pem: str = field(default="", repr=False)
    tls_server_name: str = ""
    insecure_skip_tls_verify: bool = False
    proxy_url: str = ""
    description: str = ""  # where it came from, e.g. "kubeconfig context 'prod'"

    @property
    def auth_method(self) -> str:
        if self.token:
            return "token"
        if self.client_cert_pem:
            return "client certificate"
        return "none"

    @property
    def warnings(self) -> list[str]:
        found = []
        if self.insecure_skip_tls_verify:
            found.append(
                "TLS verification is disabled (insecure-skip-tls-verify): the token could be "
                "intercepted; embed the cluster's CA instead"
            )
        if self.api_url.startswith("http://"):
            found.append("the API URL uses plain HTTP: credentials and objects travel unencrypted")
        return found


def connection_from(
    mode: str,
    *,
    api_url: str = "",
    credentials: str | bytes = "",
    ca_bundle: str = "",
    kube_context: str = "",
    service_account_dir: str | Path = SERVICE_ACCOUNT_DIR,
    environ: Mapping[str, str] | None = None,
) -> Connection:
    """Build a Connection from a Cluster's stored values.

    kubeconfig: ``credentials`` is the kubeconfig (text, or an uploaded file's bytes),
    ``kube_context`` picks a context (its current-context when empty); ``api_url`` and
    ``ca_bundle`` are not used.
    token: ``api_url`` + ``credentials`` (the bearer token) + ``ca_bundle`` (PEM; empty means
    the system's trust store). in_cluster: the pod's service account (``service_account_dir``
    and ``environ`` exist for tests).
    """
    if mode == "kubeconfig":
        from posture.scanning.collectors.kubeconfig import connection_from_kubeconfig

        return connection_from_kubeconfig(credentials, context=kube_context)
    if mode == "token":
        return token_connection(api_url, credentials, ca_bundle)
    if mode == "in_cluster":
        return in_cluster_connection(service_account_dir, environ if environ is not None else os.environ)
    if mode in ("snapshot", "agent"):
        raise InvalidConnection(f"connection mode {mode!r} does not read a live cluster")
    raise InvalidConnection(f"unknown connection mode {mode!r} (expected one of: {', '.join(MODES)})")


def token_connection(api_url: str, token: str, ca_bundle: str = "") -> Connection:
    url = check_api_url(api_url, "the API URL")
    return Connection(
        mode="token",
        api_url=url,
        token=check_token(token, "the bearer token"),
        ca_pem=check_ca_pem(ca_bundle, "the CA bundle") if ca_bundle.strip() else "",
        description="API URL and bearer token",
    )


def in_cluster_connection(service_account_dir: str | Path, environ: Mapping[str, str]) -> Connection:
    host = (environ.get("KUBERNETES_SERVICE_HOST") or "").strip()
    port = (environ.get("KUBERNETES_SERVICE_PORT") or "").strip()
    if not host or not port:
        raise InvalidConnection(
            "Rampart is not running inside a Kubernetes cluster: KUBERNETES_SERVICE_HOST and "
            "KUBERNETES_SERVICE_PORT are not set"
        )
    try:
        ipaddress.IPv6Address(host)
        host = f"[{host}]"
    except ValueError:
        pass
    folder = Path(service_account_dir)
    # A projected token is rotated by the kubelet; reading it per connection
    # (that is, per scan) always picks up the current one.
    token = _read_service_account_file(folder / "token", "token")
    ca_pem = _read_service_account_file(folder / "ca.crt", "CA certificate")
    return Connection(
        mode="in_cluster",
        api_url=check_api_url(f"https://{host}:{port}", "the in-cluster API address"),
        token=check_token(token, "the service-account token"),
        ca_pem=check_ca_pem(ca_pem, "the service-account CA certificate"),
        description="in-cluster service account",
    )


def _read_service_account_file(path: Path, what: str) -> str:
    try:
        return path.read_text()
    except FileNotFoundError:
        hint = " (is automountServiceAccountToken disabled for Rampart's pod?)" if what == "token" else ""
        raise InvalidConnection(f"the service-account {what} is missing at {path}{hint}") from None
    except (OSError, UnicodeDecodeError) as exc:
        reason = getattr(exc, "strerror", None) or "not readable text"
        raise InvalidConnection(f"the service-account {what} at {path} cannot be read: {reason}") from None


# --- checking values -----------------------------------------------------------------


def check_api_url(value: str, label: str) -> str:
    url = (value or "").strip()
    if not url:
        raise InvalidConnection(f"{label} is missing")
    parts = _http_url(url, label, "must look like https://host:port", shown=_shorten(url))
    if parts.username or parts.password:
        raise InvalidConnection(f"{label} must not contain a user name or password")
    if parts.query or parts.fragment:
        raise InvalidConnection(f"{label} must not have a query string or fragment")
    _refuse_metadata_host(parts, label, "a Kubernetes API server")
    return url.rstrip("/")


def check_proxy_url(value: str, label: str) -> str:
    """A kubeconfig's proxy: http(s), and never the metadata service, which the API URL may not be
    either (a proxy there would be sent every request, the token's with it). A proxy URL may carry a
    user name and password, so no message quotes it."""
    url = value.strip()
    parts = _http_url(url, label, "must be an http:// or https:// URL", shown=None)
    _refuse_metadata_host(parts, label, "a proxy")
    return url


def _http_url(url: str, label: str, shape: str, *, shown: str | None) -> SplitResult:
    """``url`` split, if it is an http(s) URL with a host and a valid port; ``shown`` quotes it in the
    message (None where it may hold a password)."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError on a malformed port
    except ValueError:
        raise InvalidConnection(f"{label} is not a valid URL{f': {shown}' if shown else ''}") from None
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise InvalidConnection(f"{label} {shape}{f' (got {shown})' if shown else ''}")
    return parts


def _refuse_metadata_host(parts: SplitResult, label: str, what: str) -> None:
    if resolves_to_metadata(parts.hostname, parts.port or (443 if parts.scheme == "https" else 80)):
        raise InvalidConnection(
            f"{label} points to a link-local or cloud metadata address (169.254.x.x, fe80::), where "
            f"metadata services answer, never {what}"
        )


def check_token(value: str, label: str) -> str:
    token = (value or "").strip()
    if token[:7].lower() == "bearer ":
        token = token[7:].strip()
    if not token:
        raise InvalidConnection(f"{label} is empty")
    if len(token) > _MAX_TOKEN_LENGTH:
        raise InvalidConnection(f"{label} is too long to be a Kubernetes token")
    if not token.isascii() or any(char.isspace() or not char.isprintable() for char in token):
        raise InvalidConnection(f"{label} must be one line without spaces (paste only the token itself)")
    return token


def check_ca_pem(value: str | bytes, label: str) -> str:
    data = value.encode() if isinstance(value, str) else value
    try:
        certificates = x509.load_pem_x509_certificates(data.strip() + b"\n")
    except ValueError:
        if b"-----BEGIN CERTIFICATE-----" in data:
            raise InvalidConnection(
                f"{label} has a BEGIN CERTIFICATE line but no readable certificate after it "
                "(copy the whole block, from -----BEGIN to -----END CERTIFICATE-----)"
            ) from None
        raise InvalidConnection(
            f"{label} is not a PEM certificate (it should start with -----BEGIN CERTIFICATE-----)"
        ) from None
    return "".join(cert.public_bytes(serialization.Encoding.PEM).decode() for cert in certificates)


def check_client_pair(cert: bytes, key: bytes, label: str) -> tuple[str, str]:
    try:
        certificate = x509.load_pem_x509_certificate(cert.strip() + b"\n")
    except ValueError:
        raise InvalidConnection(f"{label}: client-certificate-data is not a PEM certificate") from None
    try:
        private_key = serialization.load_pem_private_key(key.strip() + b"\n", password=None)
    except TypeError:
        raise InvalidConnection(f"{label}: client-key-data is encrypted with a passphrase") from None
    except (ValueError, UnsupportedAlgorithm):
        raise InvalidConnection(f"{label}: client-key-data is not a PEM private key") from None
    public = serialization.PublicFormat.SubjectPublicKeyInfo
    if certificate.public_key().public_bytes(
        serialization.Encoding.PEM, public
    ) != private_key.public_key().public_bytes(serialization.Encoding.PEM, public):
        raise InvalidConnection(f"{label}: client-key-data does not belong to client-certificate-data")
    return cert.decode().strip() + "\n", key.decode().strip() + "\n"


def _shorten(text: str, limit: int = 80) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def quote_name(name: object) -> str:
    """A name from a user's file, safe to put in a one-line message."""
    return repr(_shorten(str(name), 60))


# --- the HTTP client ---------------------------------------------------------------


@contextmanager
def open_api_client(connection: Connection, *, pool_size: int = 4) -> Iterator[ApiClient]:
    """The official client's ApiClient, configured for TLS and auth, closed afterwards.

    A client certificate has to be a file for OpenSSL: it is written to a
    private temporary folder for the life of the client and removed after.
    """
    config = Configuration(host=connection.api_url)
    if connection.token:
        config.api_key = {"BearerToken": connection.token}
        config.api_key_prefix = {"BearerToken": "Bearer"}
    config.verify_ssl = not connection.insecure_skip_tls_verify
    config.ca_cert_data = connection.ca_pem or None
    config.tls_server_name = connection.tls_server_name or None
    if connection.proxy_url:
        config.proxy = connection.proxy_url
    # Retry a refused connection once; never retry a read (a slow server must
    # fail after one timeout, not four) nor an HTTP status.
    config.retries = urllib3.Retry(
        total=2,
        connect=1,
        read=0,
        redirect=0,
        status=0,
        other=0,
        backoff_factor=0.2,
        raise_on_redirect=False,
        raise_on_status=False,
    )
    config.connection_pool_maxsize = pool_size
    folder = None
    try:
        if connection.client_cert_pem:
            folder = tempfile.mkdtemp(prefix="rampart-client-cert-")  # mode 0700
            config.cert_file = _write_private(folder, "client.crt", connection.client_cert_pem)
            config.key_file = _write_private(folder, "client.key", connection.client_key_pem)
        client = ApiClient(config)
        guard(client.rest_client.pool_manager)
        client.user_agent = USER_AGENT
        try:
            yield client
        finally:
            client.close()
    finally:
        if folder is not None:
            shutil.rmtree(folder, ignore_errors=True)


def _write_private(folder: str, name: str, content: str) -> str:
    path = os.path.join(folder, name)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(content)
    return path
