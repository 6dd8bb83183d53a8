"""Read an uploaded kubeconfig into a Connection, with one clear line per problem.

Rampart runs on a server, so a kubeconfig may only carry what it needs
inline: no exec or auth-provider plugins (they would run commands on
Rampart's server), and no file paths (they would read Rampart's own disk).
"""

import base64
import binascii

import yaml

from posture.scanning.collectors.connection import (
    Connection,
    InvalidConnection,
    check_api_url,
    check_ca_pem,
    check_client_pair,
    check_proxy_url,
    check_token,
    quote_name,
)
from posture.scanning.collectors.yaml_documents import load_document

MAX_KUBECONFIG_BYTES = 1024 * 1024
_FLATTEN_HINT = "embed it with `kubectl config view --raw --flatten --minify`"
_SERVICE_ACCOUNT_HINT = "give Rampart a service-account token instead (kubectl create token)"


def connection_from_kubeconfig(text: str | bytes, *, context: str = "") -> Connection:
    document = _load(text)
    clusters = _named(document, "clusters", "cluster")
    if not clusters:
        raise InvalidConnection("the kubeconfig defines no clusters")
    users = _named(document, "users", "user")
    contexts = _named(document, "contexts", "context")
    if not contexts:
        raise InvalidConnection("the kubeconfig defines no contexts")
    name = _choose_context(document, contexts, context.strip())
    chosen = contexts[name]
    cluster_name = chosen.get("cluster")
    if not cluster_name or not isinstance(cluster_name, str):
        raise InvalidConnection(f"context {quote_name(name)} names no cluster")
    if cluster_name not in clusters:
        raise InvalidConnection(
            f"context {quote_name(name)} uses cluster {quote_name(cluster_name)}, "
            "which the kubeconfig does not define"
        )
    user_name = chosen.get("user")
    if not user_name or not isinstance(user_name, str):
        raise InvalidConnection(f"context {quote_name(name)} names no user, so Rampart has no credentials")
    if user_name not in users:
        raise InvalidConnection(
            f"context {quote_name(name)} uses user {quote_name(user_name)}, "
            "which the kubeconfig does not define"
        )
    cluster = _cluster_settings(cluster_name, clusters[cluster_name])
    credentials = _user_credentials(user_name, users[user_name])
    return Connection(
        mode="kubeconfig", description=f"kubeconfig context {quote_name(name)}", **cluster, **credentials
    )


def kubeconfig_text(data: str | bytes) -> str:
    """A kubeconfig as text, pasted or uploaded: refused when larger than a kubeconfig can be, or
    when an uploaded file is not text at all (a binary file would otherwise read as broken YAML)."""
    size = len(data.encode() if isinstance(data, str) else data)
    if size > MAX_KUBECONFIG_BYTES:
        raise InvalidConnection("the kubeconfig is larger than 1 MiB; it cannot be a kubeconfig")
    if isinstance(data, str):
        return data
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidConnection("the file is not a text kubeconfig (it is not UTF-8 text)") from None


def _load(text: str | bytes) -> dict:
    data = kubeconfig_text(text).encode()
    if not data.strip():
        raise InvalidConnection("the kubeconfig is empty")
    try:
        document = load_document(data)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or "unreadable"
        where = f" at line {mark.line + 1}" if mark else ""
        raise InvalidConnection(f"the kubeconfig is not valid YAML ({problem}{where})") from None
    except (ValueError, RecursionError):
        raise InvalidConnection("the kubeconfig is not valid YAML") from None
    if not isinstance(document, dict):
        raise InvalidConnection(
            "the kubeconfig is not a kubeconfig (expected a mapping with clusters, users and contexts)"
        )
    kind = document.get("kind")
    if kind not in (None, "Config"):
        raise InvalidConnection(
            f"the file is a Kubernetes {quote_name(kind)}, not a kubeconfig (kind: Config)"
        )
    return document


def _named(document: dict, section: str, entry_key: str) -> dict[str, dict]:
    raw = document.get(section)
    if raw is None:
        return {}
    if not isinstance(raw, list):
        raise InvalidConnection(f"the kubeconfig's {section} must be a list")
    found: dict[str, dict] = {}
    for number, entry in enumerate(raw, start=1):
        if not isinstance(entry, dict) or not isinstance(entry.get("name"), str) or not entry["name"]:
            raise InvalidConnection(f"entry {number} of the kubeconfig's {section} has no name")
        body = entry.get(entry_key)
        if body is None:
            body = {}
        if not isinstance(body, dict):
            raise InvalidConnection(
                f"{entry_key} {quote_name(entry['name'])} in the kubeconfig is not a mapping"
            )
        found.setdefault(entry["name"], body)  # kubectl uses the first of duplicate names
    return found


def _choose_context(document: dict, contexts: dict[str, dict], wanted: str) -> str:
    available = ", ".join(quote_name(name) for name in list(contexts)[:10])
    if wanted:
        if wanted not in contexts:
            raise InvalidConnection(
                f"the kubeconfig has no context named {quote_name(wanted)} (it has: {available})"
            )
        return wanted
    current = document.get("current-context")
    if current and not isinstance(current, str):
        raise InvalidConnection("the kubeconfig's current-context must be a context name")
    if current:
        if current not in contexts:
            raise InvalidConnection(
                f"the kubeconfig's current-context {quote_name(current)} is not one of its contexts "
                f"({available})"
            )
        return current
    if len(contexts) == 1:
        return next(iter(contexts))
    raise InvalidConnection(f"the kubeconfig sets no current-context; choose one of: {available}")


def _cluster_settings(name: str, cluster: dict) -> dict:
    label = f"cluster {quote_name(name)}"
    server = cluster.get("server")
    if not isinstance(server, str) or not server.strip():
        raise InvalidConnection(f"{label} in the kubeconfig has no server URL")
    settings: dict = {"api_url": check_api_url(server, f"the server URL of {label}")}
    if cluster.get("certificate-authority"):
        raise InvalidConnection(
            f"{label} refers to a CA file on disk (certificate-authority); {_FLATTEN_HINT}"
        )
    if cluster.get("certificate-authority-data"):
        pem = _base64(cluster["certificate-authority-data"], f"{label}: certificate-authority-data")
        settings["ca_pem"] = check_ca_pem(pem, f"{label}: certificate-authority-data")
    insecure = cluster.get("insecure-skip-tls-verify")
    if insecure not in (None, True, False):
        raise InvalidConnection(f"{label}: insecure-skip-tls-verify must be true or false")
    settings["insecure_skip_tls_verify"] = bool(insecure)
    server_name = cluster.get("tls-server-name")
    if server_name:
        if not isinstance(server_name, str):
            raise InvalidConnection(f"{label}: tls-server-name must be a host name")
        settings["tls_server_name"] = server_name.strip()
    proxy = cluster.get("proxy-url")
    if proxy:
        settings["proxy_url"] = check_proxy_url(str(proxy), f"the proxy-url of {label}")
    return settings


def _user_credentials(name: str, user: dict) -> dict:
    label = f"user {quote_name(name)}"
    exec_plugin = user.get("exec")
    if exec_plugin:
        command = exec_plugin.get("command") if isinstance(exec_plugin, dict) else None
        shown = f" ({quote_name(command)})" if command else ""
        raise InvalidConnection(
            f"{label} gets credentials from an exec plugin{shown}, which Rampart does not run on its server; "
            f"{_SERVICE_ACCOUNT_HINT}"
        )
    provider = user.get("auth-provider")
    if provider:
        provider_name = provider.get("name") if isinstance(provider, dict) else None
        shown = f" ({quote_name(provider_name)})" if provider_name else ""
        raise InvalidConnection(
            f"{label} uses an auth-provider plugin{shown}, which Rampart does not support on its server; "
            f"{_SERVICE_ACCOUNT_HINT}"
        )
    if user.get("tokenFile"):
        raise InvalidConnection(f"{label} refers to a token file on disk (tokenFile); put the token inline")
    if user.get("client-certificate") or user.get("client-key"):
        raise InvalidConnection(
            f"{label} refers to certificate files on disk (client-certificate/client-key); {_FLATTEN_HINT}"
        )
    if user.get("username") or user.get("password"):
        raise InvalidConnection(
            f"{label} uses a user name and password, which Kubernetes no longer supports; "
            f"{_SERVICE_ACCOUNT_HINT}"
        )
    if user.get("as") or user.get("as-groups") or user.get("as-uid"):
        raise InvalidConnection(f"{label} impersonates another user (as:), which Rampart does not support")
    credentials: dict = {}
    if user.get("token"):
        credentials["token"] = check_token(str(user["token"]), f"the token of {label}")
    has_cert, has_key = bool(user.get("client-certificate-data")), bool(user.get("client-key-data"))
    if has_cert != has_key:
        missing = "client-key-data" if has_cert else "client-certificate-data"
        raise InvalidConnection(f"{label} has a client certificate without its {missing}")
    if has_cert:
        cert = _base64(user["client-certificate-data"], f"{label}: client-certificate-data")
        key = _base64(user["client-key-data"], f"{label}: client-key-data")
        credentials["client_cert_pem"], credentials["client_key_pem"] = check_client_pair(cert, key, label)
    if not credentials:
        raise InvalidConnection(f"{label} has no token or client certificate, so Rampart has no credentials")
    return credentials


def _base64(value: object, label: str) -> bytes:
    try:
        return base64.b64decode("".join(str(value).split()), validate=True)
    except (binascii.Error, ValueError):
        raise InvalidConnection(f"{label} is not valid base64") from None
