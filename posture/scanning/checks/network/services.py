"""Services reachable from outside the cluster: datastores, SSH, open load balancers, node ports."""

from collections.abc import Callable, Iterator
from typing import TypeVar

from posture.scanning.checks.common import as_list
from posture.scanning.checks.network import gateways
from posture.scanning.checks.options import option
from posture.scanning.checks.registry import (
    Category,
    Failure,
    Frameworks,
    NotAssessed,
    Severity,
    Target,
    register,
)
from posture.scanning.checks.workloads.images import ImageRef
from posture.scanning.inventory import Resource

T = TypeVar("T")

# Well-known datastore ports. Ports shared with common web software (7000, 9000, 8080...) are
# left out: a datastore on them is still recognised by its image.
DATABASE_PORTS: dict[int, str] = {
    5432: "PostgreSQL",
    5433: "PostgreSQL",
    6432: "PgBouncer",
    3306: "MySQL/MariaDB",
    33060: "MySQL X",
    1433: "Microsoft SQL Server",
    1521: "Oracle",
    1522: "Oracle",
    27017: "MongoDB",
    27018: "MongoDB",
    27019: "MongoDB",
    6379: "Redis",
    6380: "Redis",
    26379: "Redis Sentinel",
    9200: "Elasticsearch/OpenSearch",
    9300: "Elasticsearch transport",
    9042: "Cassandra/ScyllaDB",
    9160: "Cassandra Thrift",
    5984: "CouchDB",
    11211: "memcached",
    26257: "CockroachDB",
    7687: "Neo4j",
    7474: "Neo4j",
    8086: "InfluxDB",
    8123: "ClickHouse",
    8529: "ArangoDB",
    28015: "RethinkDB",
    2379: "etcd",
    50000: "Db2",
    8091: "Couchbase",
}
# Image name words that identify a datastore (matched against words of the image's last path segment).
DATABASE_IMAGES: dict[str, str] = {
    "postgres": "PostgreSQL",
    "postgresql": "PostgreSQL",
    "postgis": "PostgreSQL",
    "timescaledb": "PostgreSQL",
    "pgbouncer": "PgBouncer",
    "mysql": "MySQL",
    "mariadb": "MariaDB",
    "percona": "MySQL",
    "mongo": "MongoDB",
    "mongodb": "MongoDB",
    "redis": "Redis",
    "valkey": "Valkey",
    "keydb": "KeyDB",
    "elasticsearch": "Elasticsearch",
    "opensearch": "OpenSearch",
    "cassandra": "Cassandra",
    "scylla": "ScyllaDB",
    "couchdb": "CouchDB",
    "couchbase": "Couchbase",
    "mssql": "Microsoft SQL Server",
    "sqlserver": "Microsoft SQL Server",
    "oracle": "Oracle",
    "memcached": "memcached",
    "cockroach": "CockroachDB",
    "neo4j": "Neo4j",
    "influxdb": "InfluxDB",
    "clickhouse": "ClickHouse",
    "arangodb": "ArangoDB",
    "rethinkdb": "RethinkDB",
    "etcd": "etcd",
    "db2": "Db2",
    "yugabyte": "YugabyteDB",
    "tidb": "TiDB",
    "questdb": "QuestDB",
}
# Words that make an image a tool around a datastore, not the datastore.
_NOT_A_DATABASE = frozenset(
    {
        "exporter",
        "operator",
        "ui",
        "admin",
        "commander",
        "insight",
        "dashboards",
        "client",
        "cli",
        "backup",
        "proxy-exporter",
        "kibana",
        "browser",
        "web",
        "express",
        "metrics",
    }
)
_DATABASE_PORT_NAMES = {
    "postgres": "PostgreSQL",
    "mysql": "MySQL",
    "mongo": "MongoDB",
    "redis": "Redis",
    "mssql": "Microsoft SQL Server",
    "oracle": "Oracle",
    "cassandra": "Cassandra",
    "cql": "Cassandra",
    "memcache": "memcached",
    "elasticsearch": "Elasticsearch",
    "couchdb": "CouchDB",
}

# Annotations that keep a LoadBalancer on a private network.
INTERNAL_LB_ANNOTATIONS: dict[str, tuple[str, ...]] = {
    "service.beta.kubernetes.io/aws-load-balancer-internal": ("true", "0.0.0.0/0"),
    "service.beta.kubernetes.io/aws-load-balancer-scheme": ("internal",),
    "networking.gke.io/load-balancer-type": ("internal",),
    "cloud.google.com/load-balancer-type": ("internal",),
    "service.beta.kubernetes.io/azure-load-balancer-internal": ("true",),
    "service.beta.kubernetes.io/oci-load-balancer-internal": ("true",),
    "service.beta.kubernetes.io/openstack-internal-load-balancer": ("true",),
    "service.kubernetes.io/ibm-load-balancer-cloud-provider-ip-type": ("private",),
}
SOURCE_RANGES_ANNOTATION = "service.beta.kubernetes.io/load-balancer-source-ranges"
_ANYWHERE = frozenset({"0.0.0.0/0", "::/0"})
SSH_PORTS = frozenset({22, 2222})


def service_type(service: Resource) -> str:
    return str(service.spec.get("type") or "ClusterIP")


# The AWS Load Balancer Controller (not the legacy in-tree provider) makes internal NLBs unless
# told otherwise: its Services are marked by one of these types or by their loadBalancerClass.
AWS_LBC_TYPES = frozenset({"external", "nlb-ip"})
AWS_LBC_CLASS = "service.k8s.aws/nlb"


def is_internal_load_balancer(service: Resource) -> bool:
    annotations = service.annotations
    if any(
        str(annotations.get(key, "")).lower() in values for key, values in INTERNAL_LB_ANNOTATIONS.items()
    ):
        return True
    aws_lbc = (
        str(annotations.get("service.beta.kubernetes.io/aws-load-balancer-type", "")).lower() in AWS_LBC_TYPES
        or service.spec.get("loadBalancerClass") == AWS_LBC_CLASS
    )
    return aws_lbc and "service.beta.kubernetes.io/aws-load-balancer-scheme" not in annotations


def source_ranges(service: Resource) -> list[str]:
    # As GetLoadBalancerSourceRanges: the field wins; the annotation counts only without it.
    ranges = [str(r) for r in as_list(service.spec.get("loadBalancerSourceRanges"))]
    annotated = service.annotations.get(SOURCE_RANGES_ANNOTATION)
    if not ranges and isinstance(annotated, str):
        ranges = [r.strip() for r in annotated.split(",") if r.strip()]
    return ranges


def external_exposure(service: Resource) -> str | None:
    """How the Service is reachable from outside the cluster, or None."""
    kind = service_type(service)
    if kind == "LoadBalancer" and not is_internal_load_balancer(service):
        ranges = source_ranges(service)
        if not ranges or _ANYWHERE & set(ranges):
            return "a public LoadBalancer"
        return f"a LoadBalancer limited to {', '.join(ranges)}"
    if kind == "NodePort" or (kind == "LoadBalancer" and is_internal_load_balancer(service)):
        return "a NodePort on every node" if kind == "NodePort" else "an internal LoadBalancer and node ports"
    if as_list(service.spec.get("externalIPs")):
        return "externalIPs " + ", ".join(map(str, as_list(service.spec.get("externalIPs"))))
    return None


def _ports(service: Resource) -> Iterator[tuple[int, dict]]:
    for index, port in enumerate(as_list(service.spec.get("ports"))):
        if isinstance(port, dict):
            yield index, port


def _as_port(value) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and value.isascii() and value.isdigit():
        return int(value)
    return None


def _database_image(image: str, extra: tuple[str, ...]) -> str | None:
    last = ImageRef.parse(image).name.rsplit("/", 1)[-1].lower()
    words = last.replace("_", "-").split("-")
    if _NOT_A_DATABASE & set(words) or any(w.startswith("pgadmin") for w in words):
        return None
    for word in words:
        if word in DATABASE_IMAGES:
            return DATABASE_IMAGES[word]
    full = image.lower()
    if (
        "mssql/server" in full
        or "oracle/database" in full
        or "container-registry.oracle.com/database" in full
    ):
        return "Microsoft SQL Server" if "mssql" in full else "Oracle"
    for fragment in extra:
        if str(fragment).lower() in last:
            return str(fragment)
    return None


# What may follow a datastore's name in a port name: postgresql, mongodb, memcached, mysqlx.
_PORT_NAME_SUFFIXES = ("", "ql", "db", "d", "x")


def _database_port_name(name: str) -> str | None:
    """The datastore a port name announces (``postgres``, ``mysql-rw``), not a tool beside it."""
    words = [w.rstrip("0123456789") for w in name.replace("_", "-").split("-")]
    if _NOT_A_DATABASE & set(words):
        return None  # postgres-exporter, mongo-express, redis-metrics
    for word in words:
        for prefix, database in _DATABASE_PORT_NAMES.items():
            if word.startswith(prefix) and word[len(prefix) :] in _PORT_NAME_SUFFIXES:
                return database
    return None


def _database_behind(service: Resource, ctx) -> tuple[str, str] | None:
    """(datastore, how it was recognised) for a Service in front of a database, else None."""
    extra_ports = {p for p in (_as_port(v) for v in option(ctx, "extra_database_ports")) if p}
    for _index, port in _ports(service):
        for key in ("port", "targetPort"):
            number = _as_port(port.get(key))
            if number in DATABASE_PORTS:
                return DATABASE_PORTS[number], f"{key} {number}"
            if number in extra_ports:
                return "datastore", f"{key} {number}"
        name = str(port.get("name") or port.get("targetPort") or "").lower()
        database = _database_port_name(name)
        if database:
            return database, f"port name {name}"
    extra_images = tuple(str(v) for v in option(ctx, "extra_database_images"))
    return recognised_behind(service, ctx, lambda image: _database_image(image, extra_images))


def recognised_behind(service: Resource, ctx, recognise: Callable[[str], T | None]) -> tuple[T, str] | None:
    """(what ``recognise`` made of an image, which workload runs it) for the first image it
    recognises among the workloads the Service's selector picks, else None."""
    for workload in ctx.inventory.workloads_selected_by(service.namespace, service.spec.get("selector")):
        for container in workload.containers:
            found = recognise(container.image) if container.image else None
            if found:
                return found, f"{workload.kind} {workload.name} runs {container.image}"
    return None


@register(
    id="database-exposed",
    title="Datastore reachable from outside the cluster",
    category=Category.NETWORK,
    severity=Severity.CRITICAL,
    target=Target.RESOURCES,
    kinds=("Service", "Gateway"),
    frameworks=Frameworks(nsa=("Network separation and hardening",), mitre=("T1190", "T1133")),
    description="""
A database behind a LoadBalancer, NodePort or externalIPs Service can be reached from outside
the cluster, past every NetworkPolicy: datastores are found by internet-wide scanners within
hours and brute-forced or exploited. Recognised by a well-known port on the Service (PostgreSQL
5432, MySQL/MariaDB 3306, MSSQL 1433, Oracle 1521, MongoDB 27017, Redis 6379, Elasticsearch
9200, Cassandra 9042, CouchDB 5984, memcached 11211, CockroachDB 26257, Neo4j 7687, etcd 2379...),
a port name, or the image of a workload the Service's selector picks (postgres, mysql, mariadb,
mongo, redis, valkey, elasticsearch, opensearch, cassandra, scylla, couchdb, mssql, oracle,
memcached, clickhouse...; exporters, operators and admin UIs are not datastores). An internal
LoadBalancer (cloud annotations) still counts: it is reachable from outside the cluster network.
So does a Gateway (the Gateway API) whose `TCP` listener carries a TCPRoute to such a Service,
recognised the same way, or to a well-known datastore port. Not assessed when TCPRoutes (the
Gateway API's experimental channel) could not be read.
""",
    remediation="""
Keep datastores on a ClusterIP Service and reach them from inside the cluster (or through a
private endpoint with its own access control):

```yaml
spec:
  type: ClusterIP
  ports:
    - port: 5432
```
""",
)
def database_exposed(service: Resource, ctx) -> Iterator[Failure]:
    if service.kind == "Gateway":
        yield from _databases_behind_gateway(service, ctx)
        return
    exposure = external_exposure(service)
    if exposure is None:
        return
    found = _database_behind(service, ctx)
    if found is None:
        return
    database, evidence = found
    path = "spec.externalIPs" if exposure.startswith("externalIPs") else "spec.type"
    yield Failure(
        message=f"{database} is reachable from outside the cluster through {exposure} ({evidence})",
        path=path,
        value={"type": service_type(service), "datastore": database, "matched": evidence},
    )


def _databases_behind_gateway(gateway: Resource, ctx) -> Iterator[Failure]:
    unread = gateways.unreadable(ctx.inventory, gateways.TCP_ROUTE_KINDS)
    if unread:
        raise NotAssessed(unread)
    for index, listener in gateways.listeners(gateway):
        if str(listener.get("protocol", "")).upper() != "TCP":
            continue
        for route in gateways.routes_on(gateway, listener, ctx.inventory, gateways.TCP_ROUTE_KINDS):
            for namespace, name, port in gateways.backend_services(route):
                found = _database_behind_backend(ctx, namespace, name, port)
                if found is None:
                    continue
                database, evidence = found
                listener_name, listener_port = listener.get("name", f"#{index}"), listener.get("port")
                yield Failure(
                    message=f"{database} is reachable from outside the cluster through listener "
                    f"{listener_name} (TCP port {listener_port}) and {route.kind} "
                    f"{route.namespace}/{route.name} ({evidence})",
                    path=f"spec.listeners[{index}]",
                    value={
                        "listener": listener_name,
                        "port": listener_port,
                        "datastore": database,
                        "matched": evidence,
                        "route": f"{route.namespace}/{route.name}",
                    },
                )


def _database_behind_backend(ctx, namespace: str, name: str, port) -> tuple[str, str] | None:
    service = ctx.inventory.get("Service", namespace, name)
    if service is not None:
        found = _database_behind(service, ctx)
        if found is not None:
            return found[0], f"Service {namespace}/{name}: {found[1]}"
    number = _as_port(port)
    if number in DATABASE_PORTS:  # the Service itself was not collected: its port still tells
        return DATABASE_PORTS[number], f"backend port {number}"
    return None


@register(
    id="service-exposed-externally",
    title="LoadBalancer open to any source",
    category=Category.NETWORK,
    severity=Severity.MEDIUM,
    target="Service",
    frameworks=Frameworks(nsa=("Network separation and hardening",), mitre=("T1190",)),
    description="""
A LoadBalancer Service without `loadBalancerSourceRanges` (or with 0.0.0.0/0 among them)
accepts connections from the whole internet, bypassing any Ingress controller and its TLS,
WAF and rate limits. LoadBalancers marked internal by their cloud annotation are not
reported here, nor are those of the AWS Load Balancer Controller (`aws-load-balancer-type:
external` or `nlb-ip`, or `loadBalancerClass: service.k8s.aws/nlb`) without an
`aws-load-balancer-scheme`, which it makes internal. NodePorts are `service-nodeport`;
datastores are `database-exposed`.
""",
    remediation="""
Restrict the sources, or put the service behind the Ingress:

```yaml
spec:
  type: LoadBalancer
  loadBalancerSourceRanges:
    - 203.0.113.0/24
```
""",
)
def service_exposed_externally(service: Resource, _ctx) -> Iterator[Failure]:
    if service_type(service) != "LoadBalancer" or is_internal_load_balancer(service):
        return
    ranges = source_ranges(service)
    if not ranges or _ANYWHERE & set(ranges):
        yield Failure(
            message="LoadBalancer accepts connections from any address",
            path="spec.loadBalancerSourceRanges",
            value=ranges or None,
        )


@register(
    id="service-nodeport",
    title="NodePort Service",
    category=Category.NETWORK,
    severity=Severity.LOW,
    target="Service",
    frameworks=Frameworks(nsa=("Network separation and hardening",), mitre=("T1133",)),
    description="""
A NodePort opens the same port on every node's address, outside the Ingress and usually
outside anyone's firewall review; the node addresses are often public on managed clusters.
""",
    remediation="""
Use a ClusterIP Service behind the Ingress, or a LoadBalancer with source ranges:

```yaml
spec:
  type: ClusterIP
```
""",
)
def service_nodeport(service: Resource, _ctx) -> Iterator[Failure]:
    if service_type(service) == "NodePort":
        ports = [p.get("nodePort") or p.get("port") for _i, p in _ports(service)]
        yield Failure(
            message="Service is of type NodePort",
            path="spec.type",
            value={"type": "NodePort", "ports": ports},
        )


@register(
    id="ssh-port-exposed",
    title="SSH port exposed by a Service",
    category=Category.NETWORK,
    severity=Severity.HIGH,
    target="Service",
    frameworks=Frameworks(nsa=("Network separation and hardening",), mitre=("T1021.004", "T1133")),
    description="""
An SSH server in a pod is a second way in that bypasses Kubernetes authentication, RBAC and
audit logging, and usually means long-lived keys or passwords baked into an image. Reported:
a Service whose port or targetPort is 22 or 2222, of any type (externally reachable or not).
""",
    remediation="""
Remove the SSH server and its Service; use `kubectl exec` (audited, RBAC-controlled) or an
ephemeral debug container for access.

```yaml
# kubectl debug -it pod/<name> --image=busybox --target=<container>
```
""",
)
def ssh_port_exposed(service: Resource, _ctx) -> Iterator[Failure]:
    for index, port in _ports(service):
        for key in ("port", "targetPort"):
            number = _as_port(port.get(key))
            if number in SSH_PORTS:
                yield Failure(
                    message=f"Service exposes SSH ({key} {number})",
                    path=f"spec.ports[{index}].{key}",
                    value=number,
                )
                break
