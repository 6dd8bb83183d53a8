"""Serve a fake cluster that Rampart can scan live.

    python -m tests.fakekube --demo --port 6443

serves a generated, realistic cluster over HTTPS, writes a kubeconfig (server
URL, CA and token embedded) and prints what to do next. ``--objects FILE``
serves the objects of a snapshot file (YAML or JSON) instead.
"""

import argparse
import base64
import errno
import os
import secrets
import signal
import sys
import threading
from pathlib import Path

import yaml

from tests.fakekube.server import FakeKube

DEMO_CONTEXT = "fakekube-demo"


def demo_objects(workloads: int) -> list[dict]:
    from posture.demo import generate_cluster

    objects = generate_cluster(workloads=workloads)
    for obj in objects:
        if obj.get("kind") == "Secret":
            # Values for the server to hold back: a metadata-only list must never send them.
            obj["data"] = {"password": base64.b64encode(b"demo-value-never-sent").decode()}
    namespaces = sorted({obj["metadata"]["namespace"] for obj in objects if obj.get("kind") == "Deployment"})
    objects.append(
        {
            "apiVersion": "external-secrets.io/v1",
            "kind": "ClusterSecretStore",
            "metadata": {"name": "vault"},
            "spec": {"provider": {"vault": {"server": "https://vault.example.com", "path": "kv"}}},
        }
    )
    for namespace in namespaces[:3]:
        objects.append(
            {
                "apiVersion": "external-secrets.io/v1",
                "kind": "ExternalSecret",
                "metadata": {"name": "database", "namespace": namespace},
                "spec": {
                    "refreshInterval": "1h",
                    "secretStoreRef": {"kind": "ClusterSecretStore", "name": "vault"},
                    "target": {"name": "database"},
                    "dataFrom": [{"extract": {"key": f"{namespace}/database"}}],
                },
            }
        )
    objects.extend(_gateway_api(namespaces[0]))
    objects.extend(_forgotten_dashboard())
    objects.extend(_control_plane())
    return objects


def _control_plane() -> list[dict]:
    """A kubeadm cluster's nodes (at the server's own 1.31, past its end of life) and the mirror
    pods of its control plane with kubeadm's defaults: no encryption at rest, no audit log,
    profiling on (what the control-plane checks read)."""

    def static_pod(component: str, *flags: str) -> dict:
        labels = {"component": component, "tier": "control-plane"}
        container = {
            "name": component,
            "image": f"registry.k8s.io/{component}:v1.31.2",
            "command": [component, *flags],
        }
        return {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {
                "name": f"{component}-cp-1",
                "namespace": "kube-system",
                "labels": labels,
                "ownerReferences": [{"apiVersion": "v1", "kind": "Node", "name": "cp-1", "controller": True}],
            },
            "spec": {"nodeName": "cp-1", "hostNetwork": True, "containers": [container]},
        }

    def node(name: str, role: str) -> dict:
        labels = {"kubernetes.io/hostname": name, f"node-role.kubernetes.io/{role}": ""}
        node_info = {"kubeletVersion": "v1.31.4", "containerRuntimeVersion": "containerd://1.7.22"}
        return {
            "apiVersion": "v1",
            "kind": "Node",
            "metadata": {"name": name, "labels": labels},
            "status": {"nodeInfo": node_info},
        }

    return [
        node("cp-1", "control-plane"),
        node("worker-1", "worker"),
        node("worker-2", "worker"),
        static_pod(
            "kube-apiserver",
            "--authorization-mode=Node,RBAC",
            "--enable-admission-plugins=NodeRestriction",
            "--client-ca-file=/etc/kubernetes/pki/ca.crt",
        ),
        static_pod("etcd", "--client-cert-auth=true", "--peer-client-cert-auth=true"),
        static_pod(
            "kube-controller-manager", "--bind-address=127.0.0.1", "--use-service-account-credentials=true"
        ),
        static_pod("kube-scheduler", "--bind-address=127.0.0.1"),
    ]


def _forgotten_dashboard() -> list[dict]:
    """The Kubernetes Dashboard someone opened on a NodePort to try it: one
    sensitive-interface-exposed finding to see."""
    namespace, labels = "kubernetes-dashboard", {"k8s-app": "kubernetes-dashboard"}
    container = {
        "name": "kubernetes-dashboard",
        "image": "kubernetesui/dashboard:v2.7.0",
        "args": ["--auto-generate-certificates", f"--namespace={namespace}"],
        "ports": [{"containerPort": 8443, "protocol": "TCP"}],
    }
    return [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}},
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "kubernetes-dashboard", "namespace": namespace, "labels": labels},
            "spec": {
                "replicas": 1,
                "selector": {"matchLabels": labels},
                "template": {
                    "metadata": {"labels": labels},
                    "spec": {"serviceAccountName": "kubernetes-dashboard", "containers": [container]},
                },
            },
        },
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": "kubernetes-dashboard", "namespace": namespace, "labels": labels},
            "spec": {
                "type": "NodePort",
                "selector": labels,
                "ports": [{"port": 443, "targetPort": 8443, "nodePort": 30443}],
            },
        },
    ]


def _gateway_api(namespace: str) -> list[dict]:
    """Envoy Gateway with a public Gateway as it should be (HTTPS, the HTTP listener only
    redirects, a rate limit) and a legacy one that still serves plain HTTP without a limit: one
    ingress-no-tls and one ingress-no-rate-limit finding to see."""
    group = "gateway.networking.k8s.io/v1"

    def gateway(name: str, listeners: list[dict]) -> dict:
        spec = {"gatewayClassName": "eg", "listeners": listeners}
        return {
            "apiVersion": group,
            "kind": "Gateway",
            "metadata": {"name": name, "namespace": namespace},
            "spec": spec,
        }

    def route(name: str, parent_ref: dict, rule: dict) -> dict:
        spec = {"parentRefs": [parent_ref], "hostnames": [f"{name}.example.com"], "rules": [rule]}
        return {
            "apiVersion": group,
            "kind": "HTTPRoute",
            "metadata": {"name": name, "namespace": namespace},
            "spec": spec,
        }

    http = {"name": "http", "protocol": "HTTP", "port": 80}
    https = {
        "name": "https",
        "protocol": "HTTPS",
        "port": 443,
        "tls": {"certificateRefs": [{"name": "shop-tls"}]},
    }
    to_https = {
        "filters": [{"type": "RequestRedirect", "requestRedirect": {"scheme": "https", "statusCode": 301}}]
    }
    serve = {"backendRefs": [{"name": "web", "port": 80}]}
    envoy_gateway = {
        "apiVersion": group,
        "kind": "GatewayClass",
        "metadata": {"name": "eg"},
        "spec": {"controllerName": "gateway.envoyproxy.io/gatewayclass-controller"},
    }
    rate_limit = {
        "apiVersion": "gateway.envoyproxy.io/v1alpha1",
        "kind": "BackendTrafficPolicy",
        "metadata": {"name": "public-rate-limit", "namespace": namespace},
        "spec": {
            "targetRefs": [{"group": "gateway.networking.k8s.io", "kind": "Gateway", "name": "public"}],
            "rateLimit": {
                "type": "Local",
                "local": {"rules": [{"limit": {"requests": 50, "unit": "Second"}}]},
            },
        },
    }
    return [
        envoy_gateway,
        gateway("public", [http, https]),
        route("shop", {"name": "public", "sectionName": "http"}, to_https),
        rate_limit,
        gateway("legacy", [http]),
        route("old-shop", {"name": "legacy"}, serve),
    ]


def file_objects(paths: list[str]) -> list[dict]:
    from posture.scanning.collectors.snapshot import read_paths

    snapshot = read_paths(paths)
    for error in snapshot.errors:
        sys.stderr.write(f"fakekube: skipped {error.file} document {error.document}: {error.reason}\n")
    return snapshot.objects


def _write_private(path: Path, text: str) -> None:
    # Written whole, then renamed: whoever waits for the file never reads half of it.
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    partial = path.with_name(path.name + ".partial")
    descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(text)
    os.replace(partial, path)


def _print_request(request) -> None:
    query = "&".join(f"{key}={value[:12]}" for key, value in request.query.items())
    sys.stdout.write(f"  {request.method} {request.path}{'?' + query if query else ''} -> {request.status}\n")
    sys.stdout.flush()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.fakekube", description=__doc__.split("\n\n")[0])
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--demo", action="store_true", help="serve a generated demo cluster")
    source.add_argument("--objects", nargs="+", metavar="FILE", help="serve the objects of snapshot files")
    parser.add_argument("--workloads", type=int, default=120, help="demo size (default 120 workloads)")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=6443, help="port (default 6443)")
    parser.add_argument(
        "--advertise",
        metavar="NAME",
        help="host name Rampart will use to reach this server (put in the certificate and the kubeconfig), "
        "e.g. host.docker.internal when Rampart runs in a container",
    )
    parser.add_argument("--out", default=".data/fakekube", help="folder for kubeconfig, ca.crt and token")
    parser.add_argument("--http", action="store_true", help="serve plain HTTP instead of HTTPS")
    parser.add_argument("--forbid", action="append", default=[], metavar="RESOURCE", help='e.g. "nodes"')
    parser.add_argument("--delay", type=float, default=0.0, help="seconds to wait before every answer")
    parser.add_argument("--quiet", action="store_true", help="do not print each request")
    args = parser.parse_args(argv)

    objects = demo_objects(args.workloads) if args.demo else file_objects(args.objects)
    token = secrets.token_urlsafe(32)
    advertised = args.advertise or ("127.0.0.1" if args.host in ("0.0.0.0", "::") else args.host)  # noqa: S104
    hosts = sorted({"localhost", "127.0.0.1", "::1", advertised})
    kube = FakeKube(
        objects,
        tls=not args.http,
        host=args.host,
        port=args.port,
        tokens={token: "system:serviceaccount:rampart:rampart-scanner"},
        server_hosts=hosts,
        forbidden=args.forbid,
        delay=args.delay,
        record=False,
    )
    if not args.quiet:
        kube.on_request = _print_request
    try:
        kube.start()
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            sys.stderr.write(f"fakekube: port {args.port} is in use; pick another with --port\n")
            return 1
        raise

    url = f"{'http' if args.http else 'https'}://{advertised if ':' not in advertised else f'[{advertised}]'}"
    url += f":{kube.port}"
    config = kube.kubeconfig(context=DEMO_CONTEXT, token=token)
    for cluster in config["clusters"]:
        cluster["cluster"]["server"] = url
    out = Path(args.out).resolve()
    _write_private(out / "kubeconfig", yaml.safe_dump(config, sort_keys=False))
    _write_private(out / "token", token + "\n")
    if not args.http:
        _write_private(out / "ca.crt", kube.ca_pem)
    counts: dict[str, int] = {}
    for obj in objects:
        counts[obj.get("kind", "?")] = counts.get(obj.get("kind", "?"), 0) + 1
    summary = ", ".join(f"{count} {kind}" for kind, count in sorted(counts.items()))
    sys.stdout.write(
        f"""fakekube: serving {len(objects)} objects at {url}  (Ctrl-C stops it)
  {summary}

Written (readable only by you):
  {out / "kubeconfig"}   context "{DEMO_CONTEXT}", server URL, CA and token embedded
  {out / "token"}        the bearer token alone
  {"" if args.http else str(out / "ca.crt") + "       the CA that signed the server's certificate"}

Next steps:
  1. Check that Rampart can read it (no database needed):
       .venv/bin/python -m posture.scanning.collectors.probe --kubeconfig {out / "kubeconfig"}
  2. Register it in Rampart and watch a real scan:
       make run    (then open http://127.0.0.1:8000/ and sign in)
       Clusters -> Register a cluster -> Connection mode "Kubeconfig" -> choose the file
       {out / "kubeconfig"} (or paste it) -> Test connection -> Register -> Scan now.
     Or with "API URL and bearer token": API URL {url}, the token from {out / "token"},
     CA bundle from {out / "ca.crt"}.
  3. Each request Rampart makes is printed below.{" (--quiet hides them)" if not args.quiet else ""}

"""
    )
    sys.stdout.flush()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        stop.wait()
    except KeyboardInterrupt:
        pass
    finally:
        kube.stop()
        sys.stdout.write("\nfakekube: stopped\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
