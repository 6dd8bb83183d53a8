"""In-cluster service-account settings and API URL + token settings: read, checked, and used."""

import pytest

from posture.scanning.collectors.connection import InvalidConnection
from posture.scanning.collectors.live import collect, connection_from


def _service_account(folder, kube, token=None):
    folder.mkdir(exist_ok=True)
    (folder / "token").write_text(token or kube.token)
    (folder / "ca.crt").write_text(kube.ca_pem)
    (folder / "namespace").write_text("rampart")
    return folder


def test_in_cluster_mode_reads_the_service_account_folder_and_the_environment(kube, tmp_path):
    folder = _service_account(tmp_path / "serviceaccount", kube)
    environ = {"KUBERNETES_SERVICE_HOST": "127.0.0.1", "KUBERNETES_SERVICE_PORT": str(kube.port)}

    connection = connection_from("in_cluster", service_account_dir=folder, environ=environ)
    inventory = collect(connection)

    assert connection.api_url == f"https://127.0.0.1:{kube.port}"
    assert connection.description == "in-cluster service account"
    assert inventory.of_kind("Deployment")
    assert kube.requests[0].headers["authorization"] == f"Bearer {kube.token}"


def test_in_cluster_mode_brackets_an_ipv6_service_host(kube, tmp_path):
    folder = _service_account(tmp_path / "sa", kube)

    connection = connection_from(
        "in_cluster",
        service_account_dir=folder,
        environ={"KUBERNETES_SERVICE_HOST": "fd00::1", "KUBERNETES_SERVICE_PORT": "443"},
    )

    assert connection.api_url == "https://[fd00::1]:443"


def test_in_cluster_mode_outside_a_cluster_says_so(tmp_path):
    with pytest.raises(InvalidConnection) as caught:
        connection_from("in_cluster", service_account_dir=tmp_path, environ={})

    assert str(caught.value) == (
        "Rampart is not running inside a Kubernetes cluster: KUBERNETES_SERVICE_HOST and "
        "KUBERNETES_SERVICE_PORT are not set"
    )


def test_in_cluster_mode_without_a_mounted_token_names_the_file(tmp_path):
    environ = {"KUBERNETES_SERVICE_HOST": "10.96.0.1", "KUBERNETES_SERVICE_PORT": "443"}

    with pytest.raises(InvalidConnection) as caught:
        connection_from("in_cluster", service_account_dir=tmp_path, environ=environ)

    assert str(caught.value) == (
        f"the service-account token is missing at {tmp_path / 'token'} "
        "(is automountServiceAccountToken disabled for Rampart's pod?)"
    )


def test_a_pasted_bearer_prefix_and_surrounding_whitespace_are_tolerated(kube):
    connection = connection_from(
        "token", api_url=f" {kube.url}/ ", credentials=f"Bearer {kube.token}\n", ca_bundle=kube.ca_pem
    )

    assert connection.token == kube.token
    assert connection.api_url == kube.url
    assert collect(connection).of_kind("Deployment")


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ({"api_url": "", "credentials": "t"}, "the API URL is missing"),
        (
            {"api_url": "ftp://x", "credentials": "t"},
            "the API URL must look like https://host:port (got ftp://x)",
        ),
        ({"api_url": "https://x:port", "credentials": "t"}, "the API URL is not a valid URL: https://x:port"),
        (
            {"api_url": "https://u:p@x", "credentials": "t"},
            "the API URL must not contain a user name or password",
        ),
        ({"api_url": "https://x", "credentials": "  "}, "the bearer token is empty"),
        (
            {"api_url": "https://x", "credentials": "eyJh bGci"},
            "the bearer token must be one line without spaces (paste only the token itself)",
        ),
        (
            {"api_url": "https://x", "credentials": "t", "ca_bundle": "not a certificate"},
            "the CA bundle is not a PEM certificate (it should start with -----BEGIN CERTIFICATE-----)",
        ),
        (
            {
                "api_url": "https://x",
                "credentials": "t",
                "ca_bundle": "-----BEGIN CERTIFICATE-----\ngarbage\n-----END CERTIFICATE-----",
            },
            "the CA bundle has a BEGIN CERTIFICATE line but no readable certificate after it "
            "(copy the whole block, from -----BEGIN to -----END CERTIFICATE-----)",
        ),
        # The cloud's instance metadata service, where a scan's requests could read its credentials.
        *(
            (
                {"api_url": url, "credentials": "t"},
                "the API URL points to a link-local or cloud metadata address (169.254.x.x, fe80::), where "
                "metadata services answer, never a Kubernetes API server",
            )
            for url in (
                "http://169.254.169.254/latest",
                "https://[fe80::1]:6443",
                # The same address written as IPv6: the kernel connects to a mapped one over IPv4,
                # NAT64 and 6to4 gateways translate theirs to it.
                "http://[::ffff:169.254.169.254]/latest",
                "http://[::ffff:a9fe:a9fe]:80/latest",
                "http://[64:ff9b::a9fe:a9fe]/latest",
                "http://[2002:a9fe:a9fe::1]/latest",
                # Metadata outside the link-local ranges: AWS over IPv6, Alibaba Cloud.
                "http://[fd00:ec2::254]/latest",
                "http://100.100.100.200/latest",
            )
        ),
    ],
)
def test_unusable_token_settings_are_explained_in_one_line(given, message):
    with pytest.raises(InvalidConnection) as caught:
        connection_from("token", **given)

    assert str(caught.value) == message


@pytest.mark.parametrize(
    ("mode", "message"),
    [
        ("snapshot", "connection mode 'snapshot' does not read a live cluster"),
        (
            "carrier-pigeon",
            "unknown connection mode 'carrier-pigeon' (expected one of: kubeconfig, token, in_cluster)",
        ),
    ],
)
def test_modes_without_a_live_cluster_are_refused(mode, message):
    with pytest.raises(InvalidConnection) as caught:
        connection_from(mode)

    assert str(caught.value) == message
