"""TLS: the cluster's CA is trusted, anything else fails with the CA problem named."""

import pytest

from posture.scanning.collectors.errors import CollectionError
from posture.scanning.collectors.live import collect, connection_from
from tests.live.conftest import token_connection


def test_a_server_signed_by_the_given_ca_is_read_over_https(kube):
    inventory = collect(token_connection(kube))

    assert kube.url.startswith("https://")
    assert inventory.of_kind("Deployment")


def test_an_untrusted_ca_fails_the_collection_and_names_the_ca_problem(kube):
    with pytest.raises(CollectionError) as caught:
        collect(token_connection(kube, ca_pem=kube.untrusted_ca_pem))

    assert str(caught.value) == (
        f"TLS verification of {kube.url} failed: the server's certificate is not signed by the CA bundle "
        "Rampart was given"
    )
    assert kube.requests == []  # the token was never sent


def test_without_a_ca_bundle_the_system_trust_store_does_not_know_the_cluster(kube):
    with pytest.raises(
        CollectionError, match="not signed by a CA Rampart trusts \\(no CA bundle was given\\)"
    ):
        collect(token_connection(kube, ca_pem=""))


def test_a_certificate_for_another_host_name_is_named(serve, objects):
    kube = serve(objects, server_hosts=["kubernetes.default.svc"])

    with pytest.raises(CollectionError) as caught:
        collect(token_connection(kube))

    assert "the server's certificate is not valid for '127.0.0.1'" in str(caught.value)


def test_an_expired_server_certificate_is_named(serve, objects):
    kube = serve(objects, expired_certificate=True)

    with pytest.raises(CollectionError, match="the server's certificate has expired"):
        collect(token_connection(kube))


def test_https_against_a_plain_http_server_explains_the_handshake_failure(serve, objects):
    kube = serve(objects, tls=False)
    connection = connection_from(
        "token", api_url=kube.url.replace("http://", "https://"), credentials=kube.token
    )

    with pytest.raises(CollectionError, match="TLS handshake with .* failed .* https:// address"):
        collect(connection)


def test_a_plain_http_api_server_is_read_with_a_warning_on_the_connection(serve, objects):
    kube = serve(objects, tls=False)
    connection = token_connection(kube)

    inventory = collect(connection)

    assert inventory.of_kind("Deployment")
    assert connection.warnings == ["the API URL uses plain HTTP: credentials and objects travel unencrypted"]
