"""Read a live cluster through its API server into an Inventory.

The official client's ApiClient does auth and TLS; pages are read as raw JSON
(``limit``/``continue``) and parsed with orjson into plain dicts, because the
client's models are slow and stricter than real clusters. List items carry no
``kind``: it is set here from the resource type.

Secrets are only ever listed as metadata (``as=PartialObjectMetadataList``);
a server that cannot do that leaves Secrets as a coverage gap. A resource type
that cannot be read (403, 404, timeout, server error) becomes a coverage gap
with a one-line reason; problems that make the whole cluster unreadable
(unreachable, 401, TLS, /version timing out) raise CollectionError.

    connection = connection_from("token", api_url=..., credentials=..., ca_bundle=...)
    inventory = collect(connection)
    report = test_connection(connection)
"""

import logging
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, fields
from typing import NamedTuple

import orjson

from posture.scanning.collectors.connection import Connection, connection_from, open_api_client
from posture.scanning.collectors.errors import CollectionError
from posture.scanning.collectors.transport import Transport, TransportError, describe_status
from posture.scanning.inventory import Inventory

__all__ = [
    "RESOURCE_TYPES",
    "SECRET_MANAGER_GROUPS",
    "Connection",
    "ConnectionReport",
    "LiveCollection",
    "ResourceAccess",
    "ResourceType",
    "collect",
    "collect_with_details",
    "connection_from",
    "test_connection",
]

logger = logging.getLogger(__name__)

DEFAULT_PAGE_SIZE = 500
DEFAULT_REQUEST_TIMEOUT = 30.0
DEFAULT_WORKERS = 4
JSON = "application/json"
# The only media type Secrets are requested in: object metadata, never data.
PARTIAL_METADATA = "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1"
# Annotations that copy a whole object, values included (kubectl apply writes it).
_VALUE_BEARING_ANNOTATIONS = ("kubectl.kubernetes.io/last-applied-configuration",)


class ResourceType(NamedTuple):
    group: str  # "" for the core group
    version: str
    plural: str
    kind: str
    namespaced: bool

    @property
    def group_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    def path(self, version: str | None = None) -> str:
        version = version or self.version
        return (
            f"/apis/{self.group}/{version}/{self.plural}" if self.group else f"/api/{version}/{self.plural}"
        )


_T = ResourceType
# Everything Rampart reads; the deploy ClusterRole must grant list on each.
RESOURCE_TYPES: tuple[ResourceType, ...] = (
    _T("", "v1", "namespaces", "Namespace", False),
    _T("", "v1", "pods", "Pod", True),
    _T("", "v1", "replicationcontrollers", "ReplicationController", True),
    _T("", "v1", "services", "Service", True),
    _T("", "v1", "configmaps", "ConfigMap", True),
    _T("", "v1", "secrets", "Secret", True),  # metadata only
    _T("", "v1", "serviceaccounts", "ServiceAccount", True),
    _T("", "v1", "nodes", "Node", False),
    _T("apps", "v1", "deployments", "Deployment", True),
    _T("apps", "v1", "statefulsets", "StatefulSet", True),
    _T("apps", "v1", "daemonsets", "DaemonSet", True),
    _T("apps", "v1", "replicasets", "ReplicaSet", True),
    _T("batch", "v1", "jobs", "Job", True),
    _T("batch", "v1", "cronjobs", "CronJob", True),
    _T("networking.k8s.io", "v1", "networkpolicies", "NetworkPolicy", True),
    _T("networking.k8s.io", "v1", "ingresses", "Ingress", True),
    _T("rbac.authorization.k8s.io", "v1", "clusterroles", "ClusterRole", False),
    _T("rbac.authorization.k8s.io", "v1", "clusterrolebindings", "ClusterRoleBinding", False),
    _T("rbac.authorization.k8s.io", "v1", "roles", "Role", True),
    _T("rbac.authorization.k8s.io", "v1", "rolebindings", "RoleBinding", True),
    # Secret managers' custom resources: read when the cluster serves their group.
    _T("external-secrets.io", "v1", "externalsecrets", "ExternalSecret", True),
    _T("external-secrets.io", "v1", "clusterexternalsecrets", "ClusterExternalSecret", False),
    _T("external-secrets.io", "v1", "secretstores", "SecretStore", True),
    _T("external-secrets.io", "v1", "clustersecretstores", "ClusterSecretStore", False),
    _T("secrets.hashicorp.com", "v1beta1", "vaultstaticsecrets", "VaultStaticSecret", True),
    _T("secrets.hashicorp.com", "v1beta1", "vaultdynamicsecrets", "VaultDynamicSecret", True),
    _T("secrets.hashicorp.com", "v1beta1", "vaultauths", "VaultAuth", True),
    _T("bitnami.com", "v1alpha1", "sealedsecrets", "SealedSecret", True),
    _T("secrets-store.csi.x-k8s.io", "v1", "secretproviderclasses", "SecretProviderClass", True),
)
METADATA_ONLY = frozenset({("", "secrets")})
SECRET_MANAGER_GROUPS: dict[str, str] = {
    "external-secrets.io": "External Secrets Operator",
    "secrets.hashicorp.com": "Vault Secrets Operator",
    "bitnami.com": "Sealed Secrets",
    "secrets-store.csi.x-k8s.io": "Secrets Store CSI Driver",
}


# --- results ---------------------------------------------------------------------------


@dataclass
class LiveCollection:
    """An Inventory and what else the collection learned about the cluster."""

    inventory: Inventory
    api_groups: frozenset[str] = frozenset()  # every API group the cluster serves
    secret_managers: dict[str, str] = field(default_factory=dict)  # served group -> product
    requests: int = 0
    seconds: float = 0.0


@dataclass(frozen=True)
class ResourceAccess:
    kind: str
    group: str
    plural: str
    status: str  # readable | forbidden | not_served | not_installed | timeout | error
    reason: str = ""

    def as_dict(self) -> dict:
        return {
            "kind": self.kind,
            "group": self.group,
            "plural": self.plural,
            "status": self.status,
            "reason": self.reason,
        }


@dataclass
class ConnectionReport:
    """What Rampart can and cannot read, for the "Test connection" button."""

    api_url: str
    ok: bool = False  # reached and authenticated
    error: str = ""  # why not, in one line
    server_version: str = ""
    resources: list[ResourceAccess] = field(default_factory=list)
    secret_managers: dict[str, str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def readable(self) -> list[ResourceAccess]:
        return [access for access in self.resources if access.status == "readable"]

    @property
    def unreadable(self) -> list[ResourceAccess]:
        return [access for access in self.resources if access.status not in ("readable", "not_installed")]

    def as_dict(self) -> dict:
        return {
            "api_url": self.api_url,
            "ok": self.ok,
            "error": self.error,
            "server_version": self.server_version,
            "resources": [access.as_dict() for access in self.resources],
            "secret_managers": dict(self.secret_managers),
            "warnings": list(self.warnings),
            "seconds": round(self.seconds, 3),
        }


class _Unreadable(Exception):
    """One resource type could not be read; ``status`` as in ResourceAccess."""

    def __init__(self, status: str, reason: str):
        super().__init__(reason)
        self.status = status
        self.reason = reason


@dataclass
class _Discovery:
    version: dict | None
    core_versions: frozenset[str]
    groups: dict[str, tuple[tuple[str, ...], str]]  # group -> (served versions, preferred)
    resources: dict[str, frozenset[str]] = field(default_factory=dict)  # "group/version" -> plurals (CRDs)


# --- entry points ----------------------------------------------------------------------


def collect(
    connection: Connection,
    *,
    page_size: int = DEFAULT_PAGE_SIZE,
    request_timeout: float = DEFAULT_REQUEST_TIMEOUT,
    resource_types: Iterable[ResourceType] = RESOURCE_TYPES,
    workers: int = DEFAULT_WORKERS,
    clock: Callable[[], float] = time.monotonic,
) -> Inventory:
    """Everything Rampart reads from the cluster, as an Inventory (see module docstring)."""
    return collect_with_details(
        connection,
        page_size=page_size,
        request_timeout=request_timeout,
        resource_types=resource_types,
        workers=workers,
        clock=clock,
    ).inventory


def collect_with_details(
    connection: Connection,
    *,
    page_size: int = DEFAULT_PAGE_SIZE,
    request_timeout: float = DEFAULT_REQUEST_TIMEOUT,
    resource_types: Iterable[ResourceType] = RESOURCE_TYPES,
    workers: int = DEFAULT_WORKERS,
    clock: Callable[[], float] = time.monotonic,
) -> LiveCollection:
    started = clock()
    resource_types = tuple(resource_types)
    with open_api_client(connection, pool_size=workers) as api_client:
        transport = Transport(api_client, connection, request_timeout)
        discovery = _discover(transport)
        plan, gaps = _plan(resource_types, discovery)
        objects_by_type: dict[ResourceType, list[dict]] = {}
        with ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="rampart-collect") as pool:
            futures = {
                rtype: pool.submit(_read_all, transport, rtype, version, page_size) for rtype, version in plan
            }
            try:
                for rtype, future in futures.items():
                    try:
                        objects_by_type[rtype] = future.result()
                    except _Unreadable as exc:
                        gaps[rtype.kind] = exc.reason
            except CollectionError:
                for future in futures.values():
                    future.cancel()
                raise
        requests = transport.requests
    objects = [obj for rtype in resource_types for obj in objects_by_type.get(rtype, ())]
    api_groups = frozenset(discovery.groups)
    secret_managers = {group: name for group, name in SECRET_MANAGER_GROUPS.items() if group in api_groups}
    extra = {}
    if "api_groups" in {f.name for f in fields(Inventory)}:  # once the Inventory grows the field
        extra["api_groups"] = api_groups
    inventory = Inventory.from_objects(
        objects,
        coverage_gaps=gaps,
        server_version=discovery.version,
        source=f"live {connection.api_url}"
        + (f" ({connection.description})" if connection.description else ""),
        **extra,
    )
    seconds = clock() - started
    logger.info(
        "collected %d objects of %d kinds from %s in %.2f s (%d requests, %d coverage gaps)",
        len(objects),
        len(objects_by_type),
        connection.api_url,
        seconds,
        requests,
        len(gaps),
    )
    return LiveCollection(
        inventory=inventory,
        api_groups=api_groups,
        secret_managers=secret_managers,
        requests=requests,
        seconds=seconds,
    )


# Named for the UI's "Test connection" button, not a pytest test (hence PT028 and __test__).
def test_connection(  # noqa: PT028
    connection: Connection,
    *,
    request_timeout: float = 10.0,  # noqa: PT028
    resource_types: Iterable[ResourceType] = RESOURCE_TYPES,  # noqa: PT028
    clock: Callable[[], float] = time.monotonic,  # noqa: PT028
) -> ConnectionReport:
    """Try one small list per resource type. Never raises for cluster problems: they are in the report."""
    started = clock()
    report = ConnectionReport(api_url=connection.api_url, warnings=connection.warnings)
    resource_types = tuple(resource_types)
    try:
        with open_api_client(connection, pool_size=1) as api_client:
            transport = Transport(api_client, connection, request_timeout)
            discovery = _discover(transport)
            report.ok = True
            report.server_version = str((discovery.version or {}).get("gitVersion") or "")
            report.secret_managers = {
                group: name for group, name in SECRET_MANAGER_GROUPS.items() if group in discovery.groups
            }
            plan, gaps = _plan(resource_types, discovery)
            planned = dict(plan)
            for rtype in resource_types:
                if rtype.kind in gaps:
                    status = "timeout" if "did not answer" in gaps[rtype.kind] else "not_served"
                    report.resources.append(_access(rtype, status, gaps[rtype.kind]))
                elif rtype not in planned:
                    report.resources.append(_access(rtype, "not_installed", "its API group is not installed"))
                else:
                    try:
                        _read_all(transport, rtype, planned[rtype], page_size=1, max_pages=1)
                    except _Unreadable as exc:
                        report.resources.append(_access(rtype, exc.status, exc.reason))
                    else:
                        report.resources.append(_access(rtype, "readable"))
    except CollectionError as exc:
        report.ok = False
        report.error = str(exc)
    report.seconds = clock() - started
    return report


test_connection.__test__ = False  # a test module that imports it must not collect it


def _access(rtype: ResourceType, status: str, reason: str = "") -> ResourceAccess:
    return ResourceAccess(
        kind=rtype.kind, group=rtype.group, plural=rtype.plural, status=status, reason=reason
    )


# --- discovery ---------------------------------------------------------------------------


def _discover(transport: Transport) -> _Discovery:
    version = _read_version(transport)
    core = _get_json(transport, "/api", "the core API (/api)")
    if not isinstance(core, dict) or not isinstance(core.get("versions"), list):
        raise CollectionError(
            f"{transport.api_url} does not look like a Kubernetes API server (/api is not "
            "an APIVersions list)"
        )
    discovery = _Discovery(version=version, core_versions=frozenset(map(str, core["versions"])), groups={})
    group_list = _get_json(transport, "/apis", "the API group list (/apis)")
    for group in (group_list or {}).get("groups") or []:
        if not isinstance(group, dict) or not isinstance(group.get("name"), str):
            continue
        versions = tuple(str(v.get("version")) for v in group.get("versions") or [] if isinstance(v, dict))
        preferred = (group.get("preferredVersion") or {}).get("version") or (versions[0] if versions else "")
        discovery.groups[group["name"]] = (versions, str(preferred))
    # Which kinds a secret manager serves varies by release: ask its group.
    for group in SECRET_MANAGER_GROUPS:
        if group in discovery.groups:
            preferred = discovery.groups[group][1]
            body = _get_json(transport, f"/apis/{group}/{preferred}", f"the resources of {group}")
            names = {str(r.get("name")) for r in (body or {}).get("resources") or [] if isinstance(r, dict)}
            discovery.resources[f"{group}/{preferred}"] = frozenset(names)
    return discovery


def _read_version(transport: Transport) -> dict | None:
    try:
        response = transport.get("/version")
    except TransportError as exc:
        # Nothing has answered yet: the cluster cannot be read at all.
        raise CollectionError(exc.message) from None
    if response.status != 200:
        transport.raise_if_unauthorized(response)
        logger.warning(
            "%s: /version answered %s; continuing without the server version",
            transport.api_url,
            response.status,
        )
        return None
    try:
        version = orjson.loads(response.body)
    except orjson.JSONDecodeError:
        version = None
    if not isinstance(version, dict) or not ("gitVersion" in version or "major" in version):
        raise CollectionError(
            f"{transport.api_url} does not look like a Kubernetes API server "
            "(/version is not a Kubernetes version)"
        )
    return version


def _get_json(transport: Transport, path: str, what: str) -> dict | None:
    try:
        response = transport.get(path)
    except TransportError as exc:
        raise CollectionError(exc.message) from None
    transport.raise_if_unauthorized(response)
    if response.status != 200:
        logger.warning("%s: reading %s answered %s", transport.api_url, what, describe_status(response))
        return None
    try:
        body = orjson.loads(response.body)
    except orjson.JSONDecodeError:
        logger.warning("%s: %s is not JSON", transport.api_url, what)
        return None
    return body if isinstance(body, dict) else None


def _plan(resource_types: tuple[ResourceType, ...], discovery: _Discovery):
    """Which resource types to list (and at which version); the rest are gaps or not installed."""
    plan: list[tuple[ResourceType, str]] = []
    gaps: dict[str, str] = {}
    for rtype in resource_types:
        if not rtype.group:
            if rtype.version in discovery.core_versions:
                plan.append((rtype, rtype.version))
            else:
                gaps[rtype.kind] = f"API version {rtype.version} is not served by this cluster"
            continue
        served = discovery.groups.get(rtype.group)
        if rtype.group in SECRET_MANAGER_GROUPS:
            if served is None:
                continue  # not installed: nothing to read, nothing missing
            versions, preferred = served
            version = rtype.version if rtype.version in versions else preferred
            listed = discovery.resources.get(f"{rtype.group}/{version}")
            if listed is not None and rtype.plural not in listed and version == preferred:
                continue  # this release of the operator has no such kind
            plan.append((rtype, version))
            continue
        if served is None:
            gaps[rtype.kind] = f"API group not served: {rtype.group} is not available on this cluster"
        elif rtype.version not in served[0]:
            gaps[rtype.kind] = (
                f"API version not served: {rtype.group_version} is not available "
                f"(the cluster serves {', '.join(served[0]) or 'no versions'})"
            )
        else:
            plan.append((rtype, rtype.version))
    return plan, gaps


# --- listing -------------------------------------------------------------------------------


def _read_all(
    transport: Transport, rtype: ResourceType, version: str, page_size: int, max_pages: int | None = None
) -> list[dict]:
    """Every object of one type, page by page.

    A continue token that expires (410 Gone) restarts the list from the start
    once, still paged: one restart recovers from the usual cause (a slow
    moment during an etcd compaction) without mixing objects from two
    resource versions, and paging keeps memory flat on large clusters. A
    second expiry becomes a coverage gap rather than an endless loop.
    """
    metadata_only = (rtype.group, rtype.plural) in METADATA_ONLY
    accept = PARTIAL_METADATA if metadata_only else JSON
    path = rtype.path(version)
    api_version = f"{rtype.group}/{version}" if rtype.group else version
    objects: list[dict] = []
    token = ""
    restarted = False
    pages = 0
    while True:
        query = [("limit", page_size)] + ([("continue", token)] if token else [])
        try:
            response = transport.get(path, query, accept=accept)
        except TransportError as exc:
            raise _Unreadable("timeout" if exc.timeout else "error", exc.message) from None
        transport.raise_if_unauthorized(response)
        if response.status == 410 and token:
            if restarted:
                raise _Unreadable(
                    "error",
                    f"the list of {rtype.plural} expired twice while paging (410 Gone); "
                    "the cluster's objects change faster than Rampart can page through them",
                )
            logger.info(
                "%s: continue token for %s expired; restarting the list once", transport.api_url, path
            )
            restarted, token, objects, pages = True, "", [], 0
            continue
        if response.status != 200:
            raise _status_unreadable(rtype, response, metadata_only)
        try:
            document = orjson.loads(response.body)
        except orjson.JSONDecodeError:
            raise _Unreadable("error", f"the API server sent an unreadable list of {rtype.plural}") from None
        if not isinstance(document, dict) or not isinstance(document.get("items"), list):
            raise _Unreadable("error", f"the API server sent an unreadable list of {rtype.plural}")
        if metadata_only and document.get("kind") != "PartialObjectMetadataList":
            # The server ignored the metadata-only request: drop everything it sent.
            raise _Unreadable(
                "error",
                f"the API server cannot list {rtype.plural} as metadata only; they were "
                "not read, so their values never reach Rampart",
            )
        if metadata_only:
            objects.extend(_metadata_only(item, rtype, api_version) for item in document["items"])
        else:
            for item in document["items"]:
                if isinstance(item, dict):
                    item["kind"] = rtype.kind
                    item["apiVersion"] = api_version
                    objects.append(item)
        pages += 1
        next_token = (document.get("metadata") or {}).get("continue") or ""
        if not next_token or (max_pages is not None and pages >= max_pages):
            return objects
        if next_token == token:
            raise _Unreadable(
                "error", f"the API server returned the same continue token twice for {rtype.plural}"
            )
        token = str(next_token)


def _metadata_only(item: dict, rtype: ResourceType, api_version: str) -> dict:
    metadata = dict(item.get("metadata") or {}) if isinstance(item, dict) else {}
    metadata.pop("managedFields", None)
    annotations = metadata.get("annotations")
    if isinstance(annotations, dict) and any(key in annotations for key in _VALUE_BEARING_ANNOTATIONS):
        # kubectl apply copies the whole Secret, values included, into this annotation.
        metadata["annotations"] = {
            k: v for k, v in annotations.items() if k not in _VALUE_BEARING_ANNOTATIONS
        }
    return {"apiVersion": api_version, "kind": rtype.kind, "metadata": metadata}


def _status_unreadable(rtype: ResourceType, response, metadata_only: bool) -> _Unreadable:
    status = response.status
    detail = describe_status(response)
    if status == 403:
        message = _status_message(response)
        # "pods is forbidden: User "x" cannot list ..." -> "forbidden: User "x" cannot list ..."
        _, _, who = message.partition(" is forbidden: ")
        return _Unreadable("forbidden", f"forbidden: {who or message or detail}")
    if status == 404:
        return _Unreadable(
            "not_served", f"not served by this cluster ({rtype.group_version} {rtype.plural}: 404 Not Found)"
        )
    if status == 406 and metadata_only:
        return _Unreadable(
            "error",
            f"the API server cannot list {rtype.plural} as metadata only (406 Not "
            "Acceptable); they were not read, so their values never reach Rampart",
        )
    return _Unreadable("error", f"the API server answered {detail}")


def _status_message(response) -> str:
    try:
        body = orjson.loads(response.body)
    except orjson.JSONDecodeError:
        return ""
    return " ".join(str(body.get("message") or "").split())[:300] if isinstance(body, dict) else ""
