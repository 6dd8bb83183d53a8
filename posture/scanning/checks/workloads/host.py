"""Host namespaces, ports and file system: the ways a pod reaches past its container onto the node."""

import posixpath
from collections.abc import Iterator

from posture.scanning.checks.common import as_dict
from posture.scanning.checks.registry import Category, Failure, Frameworks, Severity, Target, register
from posture.scanning.inventory import Workload

# Container runtime sockets: whoever can write to one can start a privileged container on the node.
RUNTIME_SOCKETS = (
    "/var/run/docker.sock",
    "/run/docker.sock",
    "/var/run/dockershim.sock",
    "/var/run/cri-dockerd.sock",
    "/run/containerd/containerd.sock",
    "/var/run/containerd/containerd.sock",
    "/run/k3s/containerd/containerd.sock",
    "/var/run/crio/crio.sock",
    "/run/crio/crio.sock",
    "/var/run/docker/containerd/containerd.sock",
    "/run/podman/podman.sock",
)
RUNTIME_SOCKET_NAMES = (
    "docker.sock",
    "containerd.sock",
    "crio.sock",
    "dockershim.sock",
    "cri-dockerd.sock",
    "podman.sock",
)
# /var/run is a symbolic link to /run on current distributions, so mounting /var
# does not reach the sockets; mounting /run, /var/run or "/" does.
_NOT_EXPOSING = frozenset({"/var"})


def _host_flag(workload: Workload, key: str, what: str) -> Iterator[Failure]:
    if workload.pod_spec.get(key) is True:
        yield Failure(
            message=f"pod shares the host's {what}", path=f"{workload.pod_spec_path}.{key}", value=True
        )


@register(
    id="host-network",
    title="Pod uses the host network",
    category=Category.WORKLOAD,
    severity=Severity.HIGH,
    target=Target.WORKLOAD,
    frameworks=Frameworks(
        pss="baseline", cis=("5.2.5",), nsa=("Pod security: host namespaces",), mitre=("T1611",)
    ),
    description="""
With `hostNetwork: true` the pod sees every interface of the node: it can sniff traffic,
reach services bound to localhost (the kubelet, cloud metadata endpoints) and bypasses
NetworkPolicies entirely.
""",
    remediation="""
Remove `hostNetwork: true`; expose the port through a Service instead.

```yaml
spec:
  hostNetwork: false
```
""",
)
def host_network(workload: Workload, _ctx) -> Iterator[Failure]:
    yield from _host_flag(workload, "hostNetwork", "network namespace")


@register(
    id="host-pid",
    title="Pod shares the host PID namespace",
    category=Category.WORKLOAD,
    severity=Severity.HIGH,
    target=Target.WORKLOAD,
    frameworks=Frameworks(
        pss="baseline", cis=("5.2.3",), nsa=("Pod security: host namespaces",), mitre=("T1611",)
    ),
    description="""
With `hostPID: true` the pod sees every process on the node, can read their environment
(secrets included) and, with ptrace, inject into them.
""",
    remediation="""
```yaml
spec:
  hostPID: false
```
""",
)
def host_pid(workload: Workload, _ctx) -> Iterator[Failure]:
    yield from _host_flag(workload, "hostPID", "process namespace")


@register(
    id="host-ipc",
    title="Pod shares the host IPC namespace",
    category=Category.WORKLOAD,
    severity=Severity.HIGH,
    target=Target.WORKLOAD,
    frameworks=Frameworks(
        pss="baseline", cis=("5.2.4",), nsa=("Pod security: host namespaces",), mitre=("T1611",)
    ),
    description="""
With `hostIPC: true` the pod can read and write the shared memory of every process on the node.
""",
    remediation="""
```yaml
spec:
  hostIPC: false
```
""",
)
def host_ipc(workload: Workload, _ctx) -> Iterator[Failure]:
    yield from _host_flag(workload, "hostIPC", "IPC namespace")


@register(
    id="host-port",
    title="Container binds a host port",
    category=Category.WORKLOAD,
    severity=Severity.MEDIUM,
    target=Target.WORKLOAD,
    frameworks=Frameworks(
        pss="baseline", cis=("5.2.13",), nsa=("Network separation and hardening",), mitre=("T1133",)
    ),
    description="""
A `hostPort` opens the port on the node's own address, outside any Service, load balancer
or NetworkPolicy, and pins the pod to nodes where the port is free.
""",
    remediation="""
Drop `hostPort` and reach the container through a Service:

```yaml
ports:
  - containerPort: 8080
```
""",
)
def host_port(workload: Workload, _ctx) -> Iterator[Failure]:
    for container in workload.containers:
        for index, port in container.items("ports"):
            value = port.get("hostPort")
            if value not in (None, 0, "0"):
                yield Failure(
                    message=f"container {container.name} binds host port {value}",
                    path=f"{container.path}.ports[{index}].hostPort",
                    value=value,
                    container=container.name,
                )


def _host_paths(workload: Workload) -> Iterator[tuple[int, str, dict]]:
    for index, volume in workload.volumes():
        host_path = volume.get("hostPath")
        if isinstance(host_path, dict):
            yield index, str(host_path.get("path") or ""), host_path


@register(
    id="host-path",
    title="Pod mounts a host path",
    category=Category.WORKLOAD,
    severity=Severity.HIGH,
    target=Target.WORKLOAD,
    frameworks=Frameworks(
        pss="baseline", cis=("5.2.12",), nsa=("Pod security: host file system",), mitre=("T1611",)
    ),
    description="""
A `hostPath` volume puts part of the node's file system inside the container: kubelet
credentials, other pods' volumes, logs with secrets, or (written to) a way onto the node.
Every hostPath volume is reported, read-only or not: read-only still leaks what it exposes.
""",
    remediation="""
Use a `persistentVolumeClaim`, `configMap`, `secret` or `emptyDir` volume instead:

```yaml
volumes:
  - name: data
    persistentVolumeClaim:
      claimName: data
```
""",
)
def host_path(workload: Workload, _ctx) -> Iterator[Failure]:
    for index, path, _spec in _host_paths(workload):
        yield Failure(
            message=f"pod mounts host path {path or '(empty)'}",
            path=f"{workload.pod_spec_path}.volumes[{index}].hostPath.path",
            value=path,
        )


def _exposes_runtime_socket(path: str, spec: dict) -> bool:
    if not path:
        return False
    path = posixpath.normpath(path) if path != "/" else "/"
    if path in _NOT_EXPOSING:
        return False
    if path == "/" or path in RUNTIME_SOCKETS or path.endswith(RUNTIME_SOCKET_NAMES):
        return True
    if spec.get("type") == "Socket" and "sock" in path:
        return True
    return any(socket.startswith(path + "/") for socket in RUNTIME_SOCKETS)


@register(
    id="docker-socket-mount",
    title="Container runtime socket mounted",
    category=Category.WORKLOAD,
    severity=Severity.CRITICAL,
    target=Target.WORKLOAD,
    frameworks=Frameworks(
        pss="baseline", cis=("5.2.12",), nsa=("Pod security: host file system",), mitre=("T1611", "T1610")
    ),
    description="""
The Docker, containerd or CRI-O socket lets whoever can write to it start a privileged
container on the node: full node compromise. Reported: a hostPath that is a runtime socket
(docker.sock, containerd.sock, crio.sock, podman.sock...) or a directory that contains one
(`/run`, `/var/run`, `/run/containerd`, `/var/run/docker`, `/`).
""",
    remediation="""
Remove the volume. Build images with a daemonless builder (BuildKit rootless, kaniko) and
read container metadata through the Kubernetes API instead.

```yaml
volumes: []  # no hostPath to /var/run/docker.sock
```
""",
)
def docker_socket_mount(workload: Workload, _ctx) -> Iterator[Failure]:
    for index, path, spec in _host_paths(workload):
        if _exposes_runtime_socket(path, as_dict(spec)):
            yield Failure(
                message=f"pod mounts the container runtime socket through host path {path}",
                path=f"{workload.pod_spec_path}.volumes[{index}].hostPath.path",
                value=path,
            )


_PROBES = ("livenessProbe", "readinessProbe", "startupProbe")
_HOOKS = ("postStart", "preStop")
_LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})


def _handlers_with_host(container) -> Iterator[tuple[str, object]]:
    """(path, host) for every probe and lifecycle hook handler that names a host."""
    spec = container.spec
    places = [(probe, spec.get(probe)) for probe in _PROBES]
    lifecycle = spec.get("lifecycle")
    if isinstance(lifecycle, dict):
        places += [(f"lifecycle.{hook}", lifecycle.get(hook)) for hook in _HOOKS]
    for where, action in places:
        if not isinstance(action, dict):
            continue
        for handler in ("httpGet", "tcpSocket"):
            target = action.get(handler)
            if isinstance(target, dict) and target.get("host") not in (None, ""):
                yield f"{where}.{handler}", target["host"]


@register(
    id="probe-host-set",
    title="Probe or lifecycle hook aimed at another host",
    category=Category.WORKLOAD,
    severity=Severity.MEDIUM,
    target=Target.WORKLOAD,
    frameworks=Frameworks(pss="baseline", nsa=("Network separation and hardening",), mitre=("T1090",)),
    description="""
The kubelet runs HTTP and TCP probes and lifecycle hooks from the node. With `host` set, it
connects wherever the pod author says, with the node's network position: a way to reach
services the pod itself cannot (the cloud metadata endpoint, node-local daemons). The Pod
Security Standards baseline forbids it from Kubernetes 1.34; leaving `host` unset probes the pod.
A host-network pod probing loopback is not reported here: that is its own address (its host
network is reported by `host-network`).
""",
    remediation="""
Remove `host` so that the probe targets the pod's own IP:

```yaml
livenessProbe:
  httpGet:
    path: /healthz
    port: 8080
```
""",
)
def probe_host_set(workload: Workload, _ctx) -> Iterator[Failure]:
    # A host-network pod's own address is the node's: probing loopback reaches nothing more
    # than the pod already does (host-network is reported on its own).
    own = _LOOPBACK if workload.pod_spec.get("hostNetwork") is True else frozenset()
    for container in workload.containers:
        for where, host in _handlers_with_host(container):
            if str(host).lower() not in own:
                yield Failure(
                    message=f"container {container.name}: {where} connects from the node to {host}",
                    path=f"{container.path}.{where}.host",
                    value=host,
                    container=container.name,
                )
