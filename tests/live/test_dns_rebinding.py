"""A cluster's host name that resolves to the metadata service when Rampart connects is refused.

The API URL is checked when the connection is built; a hostile DNS server can answer that look-up
with the real server and the connection's own look-up with 169.254.169.254. No DNS server can be
run for these tests, so the system resolver answers for one made-up name from a table the test
changes between look-ups; every other name still goes to the real resolver.
"""

import socket

import pytest

from posture.scanning.collectors.errors import CollectionError
from posture.scanning.collectors.live import collect, connection_from

NAME = "kube.rebinding.test"


@pytest.fixture
def dns(monkeypatch):
    """``dns.answers``: the addresses NAME resolves to, one list per look-up (the last repeats)."""
    real_getaddrinfo = socket.getaddrinfo

    class Resolver:
        answers: list[list[str]] = [["127.0.0.1"]]
        lookups = 0

        def getaddrinfo(self, host, port, *args, **kwargs):
            if host != NAME:
                return real_getaddrinfo(host, port, *args, **kwargs)
            addresses = self.answers[min(self.lookups, len(self.answers) - 1)]
            self.lookups += 1
            return [
                (socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", (address, int(port)))
                for address in addresses
            ]

    resolver = Resolver()
    monkeypatch.setattr(socket, "getaddrinfo", resolver.getaddrinfo)
    return resolver


@pytest.fixture
def kube(serve, objects):
    return serve(objects, server_hosts=[NAME])


def _connection(kube):
    return connection_from(
        "token",
        api_url=f"https://{NAME}:{kube.port}",
        credentials=kube.token,
        ca_bundle=kube.ca_pem,
    )


def test_a_name_that_resolves_to_the_server_is_read_and_its_certificate_checked_by_name(dns, kube):
    inventory = collect(_connection(kube))

    assert inventory.of_kind("Deployment")
    assert dns.lookups >= 2  # the URL check, then every connection resolves the name itself


def test_a_name_rebound_to_the_metadata_address_after_the_check_is_refused_before_connecting(dns, kube):
    dns.answers = [["127.0.0.1"], ["169.254.169.254"]]
    connection = _connection(kube)  # the URL check sees the server

    with pytest.raises(CollectionError) as caught:
        collect(connection)

    assert str(caught.value) == (
        f"cannot reach the API server at https://{NAME}:{kube.port}: the host name '{NAME}' now "
        "resolves to a link-local or cloud metadata address, where Rampart never connects"
    )
    assert kube.requests == []


def test_one_metadata_address_among_several_refuses_the_name(dns, kube):
    dns.answers = [["127.0.0.1"], ["127.0.0.1", "::ffff:169.254.169.254"]]

    with pytest.raises(CollectionError, match="now resolves to a link-local or cloud metadata address"):
        collect(_connection(kube))

    assert kube.requests == []


def test_the_next_checked_address_is_tried_when_the_first_refuses(dns, kube):
    # The fake server listens on 127.0.0.1 only: 127.0.0.2 (also loopback) refuses the connection.
    dns.answers = [["127.0.0.2", "127.0.0.1"]]

    inventory = collect(_connection(kube))

    assert inventory.of_kind("Deployment")
