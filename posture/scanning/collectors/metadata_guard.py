"""Keep every connection to a cluster away from the cloud instance metadata service.

An API URL (or a kubeconfig's proxy) is checked when it is saved and again when a scan builds
its connection, but the HTTP client looks the host name up once more when it connects. A DNS
server that answers the check with a public address and the connection with 169.254.169.254
(DNS rebinding) would have Rampart send its bearer token, and the objects it lists, to whatever
answers there: on a cloud VM, the service that hands out the machine's own credentials.

So the connections Rampart opens to a cluster resolve the name themselves, refuse it if any
address is a metadata address, and connect only to the addresses they checked. TLS still sends
and verifies the host name: nothing changes for a server that is where its name says.
"""

import ipaddress
import socket

from urllib3 import connection as urllib3_connection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import ConnectTimeoutError, NameResolutionError, NewConnectionError
from urllib3.util.connection import allowed_gai_family

# Where instance metadata answers outside the link-local ranges: AWS over IPv6 (Nitro) and Alibaba Cloud.
_METADATA_ADDRESSES = frozenset(map(ipaddress.ip_address, ("fd00:ec2::254", "100.100.100.200")))
_NAT64 = ipaddress.ip_network("64:ff9b::/96")  # RFC 6052: the IPv4 address is the last 32 bits


class MetadataAddressRefused(OSError):
    """A cluster's host name resolved to an address where cloud metadata answers."""

    def __init__(self, host: str):
        super().__init__(f"{host} resolves to a link-local or cloud metadata address")
        self.host = host


def is_metadata_address(text: str) -> bool:
    """ValueError if ``text`` is not an IP address. IPv6 forms of an IPv4 address count as that
    address: the kernel connects to ``[::ffff:169.254.169.254]`` over IPv4, and NAT64 or 6to4
    gateways translate theirs to it on the way."""
    address = ipaddress.ip_address(text.split("%")[0])
    candidates = [address]
    if address.version == 6:
        candidates += [address.ipv4_mapped, address.sixtofour]
        if address in _NAT64:
            candidates.append(ipaddress.IPv4Address(int(address) & 0xFFFFFFFF))
    return any(
        candidate is not None and (candidate.is_link_local or candidate in _METADATA_ADDRESSES)
        for candidate in candidates
    )


def resolves_to_metadata(host: str, port: int) -> bool:
    """Whether the host is, or now resolves to, a metadata address. A name that does not resolve
    (yet) is left to the connection, which says so."""
    try:
        return is_metadata_address(host)
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError):
        return False
    return any(is_metadata_address(info[4][0]) for info in infos)


class _CheckedAddresses:
    """urllib3's connection, but connecting only to addresses it has checked itself."""

    def _new_conn(self):
        original = self._dns_host
        name = original.strip("[]")
        try:
            infos = socket.getaddrinfo(name, self.port, allowed_gai_family(), socket.SOCK_STREAM)
        except socket.gaierror as error:
            raise NameResolutionError(self.host, self, error) from error
        addresses = list(dict.fromkeys(info[4][0] for info in infos))
        if any(is_metadata_address(address) for address in addresses):
            refused = MetadataAddressRefused(self.host)
            raise NewConnectionError(self, f"Refused to connect: {refused}") from refused
        failure: Exception | None = None
        for address in addresses:
            self._dns_host = address
            try:
                return super()._new_conn()
            except ConnectTimeoutError as error:  # NewConnectionError is one as well
                failure = error
            finally:
                self._dns_host = original
        assert failure is not None  # getaddrinfo returns at least one address or raises
        raise failure


class _CheckedHTTPConnection(_CheckedAddresses, urllib3_connection.HTTPConnection):
    pass


class _CheckedHTTPSConnection(_CheckedAddresses, urllib3_connection.HTTPSConnection):
    pass


class _CheckedHTTPConnectionPool(HTTPConnectionPool):
    ConnectionCls = _CheckedHTTPConnection


class _CheckedHTTPSConnectionPool(HTTPSConnectionPool):
    ConnectionCls = _CheckedHTTPSConnection


def guard(pool_manager) -> None:
    """Make every connection ``pool_manager`` opens from now on (to the API server, or to the
    proxy in between) check its addresses first."""
    pool_manager.pool_classes_by_scheme = {
        "http": _CheckedHTTPConnectionPool,
        "https": _CheckedHTTPSConnectionPool,
    }
