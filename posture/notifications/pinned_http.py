"""POST to a webhook at the addresses its host name had when it was checked.

A second look-up of the name, as an ordinary HTTP client makes when it connects, could be
answered by a hostile DNS server with 127.0.0.1 or the cloud metadata address after the
check saw a public one (DNS rebinding). So the connection goes to an address from the
check, while TLS still sends the host name (SNI) and verifies the certificate against it.
Redirects are never followed: where they lead was not checked.
"""

import http.client
import socket
import ssl
from dataclasses import dataclass


@dataclass(frozen=True)
class Destination:
    host: str
    port: int
    https: bool
    target: str  # path and query, as the request line carries them
    addresses: tuple[str, ...]  # what the host name resolved to when it was checked


def post(destination: Destination, body: bytes, headers: dict[str, str], timeout: float, limit: int) -> int:
    """The answer's HTTP status, after reading at most ``limit`` bytes of it. Network and TLS
    failures raise OSError, a malformed answer http.client.HTTPException."""
    connection_class = _PinnedHTTPSConnection if destination.https else _PinnedHTTPConnection
    connection = connection_class(destination, timeout)
    try:
        connection.request("POST", destination.target, body=body, headers=headers)
        response = connection.getresponse()
        response.read(limit)
        return response.status
    finally:
        connection.close()


def _connect(addresses: tuple[str, ...], port: int, timeout: float | None) -> socket.socket:
    failure: OSError = OSError("the host name resolved to no address")
    for address in addresses:
        try:
            return socket.create_connection((address, port), timeout)
        except OSError as exc:
            failure = exc
    raise failure


class _PinnedHTTPConnection(http.client.HTTPConnection):
    def __init__(self, destination: Destination, timeout: float):
        super().__init__(destination.host, destination.port, timeout=timeout)
        self._addresses = destination.addresses

    def connect(self):
        self.sock = _connect(self._addresses, self.port, self.timeout)


class _PinnedHTTPSConnection(_PinnedHTTPConnection):
    default_port = 443

    def __init__(self, destination: Destination, timeout: float):
        super().__init__(destination, timeout)
        self._tls = ssl.create_default_context()

    def connect(self):
        super().connect()
        self.sock = self._tls.wrap_socket(self.sock, server_hostname=self.host)
