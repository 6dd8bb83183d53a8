"""Kubeconfigs: the chosen context is used, and every problem is one clear line."""

import base64

import pytest
import yaml

from posture.scanning.collectors.connection import InvalidConnection
from posture.scanning.collectors.live import collect, connection_from


def _kubeconfig(**changes) -> dict:
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "prod", "cluster": {"server": "https://prod.example.com:6443"}}],
        "users": [{"name": "scanner", "user": {"token": "abc.def.ghi"}}],
        "contexts": [{"name": "prod", "context": {"cluster": "prod", "user": "scanner"}}],
        "current-context": "prod",
    }
    config.update(changes)
    return config


def _with_proxy(proxy_url: str) -> dict:
    cluster = {"server": "https://prod.example.com:6443", "proxy-url": proxy_url}
    return _kubeconfig(clusters=[{"name": "prod", "cluster": cluster}])


def _from(config, context: str = ""):
    text = config if isinstance(config, str) else yaml.safe_dump(config)
    return connection_from("kubeconfig", credentials=text, kube_context=context)


def test_the_selected_context_is_the_one_that_is_read(serve, objects):
    staging = serve([objects[0]])
    prod = serve(objects)
    config = prod.kubeconfig(context="prod")
    other = staging.kubeconfig(context="staging")
    for section in ("clusters", "users", "contexts"):
        config[section] += other[section]
    config["current-context"] = "staging"

    inventory = collect(_from(config, context="prod"))

    assert inventory.of_kind("Deployment")
    assert staging.requests == []
    assert inventory.source == f"live {prod.url} (kubeconfig context 'prod')"


def test_without_a_selection_the_current_context_is_read(serve, objects):
    kube = serve(objects)

    inventory = collect(_from(kube.kubeconfig(context="only")))

    assert inventory.of_kind("Deployment")


def test_a_client_certificate_from_the_kubeconfig_authenticates(serve, objects):
    kube = serve(objects, tokens={})  # no token would be accepted
    config = kube.kubeconfig(client_certificate=kube.issue_client_certificate("rampart-scanner"))

    connection = _from(config)
    inventory = collect(connection)

    assert connection.auth_method == "client certificate"
    assert inventory.of_kind("Deployment")
    assert {request.user for request in kube.requests} == {"rampart-scanner"}
    assert "authorization" not in kube.requests[0].headers


def test_the_values_it_reads(serve):
    ca_pem = serve([]).ca_pem
    cluster = {
        "server": "https://10.0.0.1:6443/",
        "certificate-authority-data": base64.b64encode(ca_pem.encode()).decode(),
        "tls-server-name": "kubernetes.default.svc",
        "proxy-url": "http://proxy.internal:3128",
    }
    connection = _from(_kubeconfig(clusters=[{"name": "prod", "cluster": cluster}]))

    assert connection.api_url == "https://10.0.0.1:6443"
    assert connection.ca_pem == ca_pem
    assert connection.tls_server_name == "kubernetes.default.svc"
    assert connection.proxy_url == "http://proxy.internal:3128"
    assert connection.token == "abc.def.ghi"
    assert "abc.def.ghi" not in repr(connection)


UNUSABLE = [
    ("", "the kubeconfig is empty"),
    (
        "clusters: [\n  - name: x\n  cluster",
        "the kubeconfig is not valid YAML (did not find expected node content at line 2)",
    ),
    (
        "just a string",
        "the kubeconfig is not a kubeconfig (expected a mapping with clusters, users and contexts)",
    ),
    (
        _kubeconfig(kind="Deployment"),
        "the file is a Kubernetes 'Deployment', not a kubeconfig (kind: Config)",
    ),
    (_kubeconfig(clusters=[]), "the kubeconfig defines no clusters"),
    (_kubeconfig(contexts=None), "the kubeconfig defines no contexts"),
    (_kubeconfig(clusters=[{"cluster": {}}]), "entry 1 of the kubeconfig's clusters has no name"),
    (
        _kubeconfig(**{"current-context": "gone"}),
        "the kubeconfig's current-context 'gone' is not one of its contexts ('prod')",
    ),
    (
        _kubeconfig(
            **{
                "current-context": None,
                "contexts": [
                    {"name": "a", "context": {"cluster": "prod", "user": "scanner"}},
                    {"name": "b", "context": {"cluster": "prod", "user": "scanner"}},
                ],
            }
        ),
        "the kubeconfig sets no current-context; choose one of: 'a', 'b'",
    ),
    (
        _kubeconfig(contexts=[{"name": "prod", "context": {"cluster": "nope", "user": "scanner"}}]),
        "context 'prod' uses cluster 'nope', which the kubeconfig does not define",
    ),
    (
        _kubeconfig(contexts=[{"name": "prod", "context": {"cluster": "prod"}}]),
        "context 'prod' names no user, so Rampart has no credentials",
    ),
    (
        _kubeconfig(clusters=[{"name": "prod", "cluster": {}}]),
        "cluster 'prod' in the kubeconfig has no server URL",
    ),
    (
        _kubeconfig(clusters=[{"name": "prod", "cluster": {"server": "prod.example.com"}}]),
        "the server URL of cluster 'prod' must look like https://host:port (got prod.example.com)",
    ),
    (
        _kubeconfig(
            clusters=[
                {"name": "prod", "cluster": {"server": "https://x:6443", "certificate-authority": "/etc/ca"}}
            ]
        ),
        "cluster 'prod' refers to a CA file on disk (certificate-authority); embed it with "
        "`kubectl config view --raw --flatten --minify`",
    ),
    (
        _kubeconfig(
            clusters=[
                {"name": "prod", "cluster": {"server": "https://x:6443", "certificate-authority-data": "%%%"}}
            ]
        ),
        "cluster 'prod': certificate-authority-data is not valid base64",
    ),
    (
        _kubeconfig(
            clusters=[
                {
                    "name": "prod",
                    "cluster": {"server": "https://x:6443", "certificate-authority-data": "aGVsbG8="},
                }
            ]
        ),
        "cluster 'prod': certificate-authority-data is not a PEM certificate (it should start with "
        "-----BEGIN CERTIFICATE-----)",
    ),
    (
        _kubeconfig(
            users=[{"name": "scanner", "user": {"exec": {"command": "aws", "args": ["eks", "get-token"]}}}]
        ),
        "user 'scanner' gets credentials from an exec plugin ('aws'), "
        "which Rampart does not run on its server; "
        "give Rampart a service-account token instead (kubectl create token)",
    ),
    (
        _kubeconfig(users=[{"name": "scanner", "user": {"auth-provider": {"name": "gcp"}}}]),
        "user 'scanner' uses an auth-provider plugin ('gcp'), which Rampart does not support on its server; "
        "give Rampart a service-account token instead (kubectl create token)",
    ),
    (
        _kubeconfig(users=[{"name": "scanner", "user": {"tokenFile": "/var/run/token"}}]),
        "user 'scanner' refers to a token file on disk (tokenFile); put the token inline",
    ),
    (
        _kubeconfig(users=[{"name": "scanner", "user": {"username": "admin", "password": "hunter2"}}]),
        "user 'scanner' uses a user name and password, which Kubernetes no longer supports; "
        "give Rampart a service-account token instead (kubectl create token)",
    ),
    (
        _kubeconfig(contexts=[{"name": "prod", "context": {"cluster": ["prod"], "user": "scanner"}}]),
        "context 'prod' names no cluster",
    ),
    (
        _kubeconfig(contexts=[{"name": "prod", "context": {"cluster": "prod", "user": {"a": "b"}}}]),
        "context 'prod' names no user, so Rampart has no credentials",
    ),
    (
        _kubeconfig(**{"current-context": ["prod"]}),
        "the kubeconfig's current-context must be a context name",
    ),
    (
        _kubeconfig(
            clusters=[{"name": "prod", "cluster": {"server": "https://x:6443", "tls-server-name": {"a": 1}}}]
        ),
        "cluster 'prod': tls-server-name must be a host name",
    ),
    (
        _kubeconfig(users=[{"name": "scanner", "user": {}}]),
        "user 'scanner' has no token or client certificate, so Rampart has no credentials",
    ),
    (
        _kubeconfig(users=[{"name": "scanner", "user": {"client-certificate-data": "aGVsbG8="}}]),
        "user 'scanner' has a client certificate without its client-key-data",
    ),
    (
        _with_proxy("socks5://ops:hunter2@proxy.internal:1080"),
        "the proxy-url of cluster 'prod' must be an http:// or https:// URL",
    ),
    (
        _with_proxy("http://ops:hunter2@proxy.internal:99999"),
        "the proxy-url of cluster 'prod' is not a valid URL",
    ),
    # A proxy is sent every request, the token's with it: never the metadata service, in any spelling.
    *(
        (
            _with_proxy(f"http://ops:hunter2@{host}/"),
            "the proxy-url of cluster 'prod' points to a link-local or cloud metadata address "
            "(169.254.x.x, fe80::), where metadata services answer, never a proxy",
        )
        for host in ("169.254.169.254", "[::ffff:169.254.169.254]", "100.100.100.200:80")
    ),
]


@pytest.mark.parametrize(("config", "message"), UNUSABLE)
def test_an_unusable_kubeconfig_is_explained_in_one_line(config, message):
    with pytest.raises(InvalidConnection) as caught:
        _from(config)

    assert str(caught.value) == message
    assert "\n" not in str(caught.value)
    assert "hunter2" not in str(caught.value)


def test_an_unknown_context_names_the_ones_there_are():
    with pytest.raises(InvalidConnection) as caught:
        _from(_kubeconfig(), context="staging")

    assert str(caught.value) == "the kubeconfig has no context named 'staging' (it has: 'prod')"
