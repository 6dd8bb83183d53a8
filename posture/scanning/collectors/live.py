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

import orjson

from posture.cluster_identity import KUBE_SYSTEM, kube_system_uid
from posture.scanning.collectors.connection import (
    Connection,
    InvalidConnection,
    connection_from,
    open_api_client,
)
from posture.scanning.collectors.errors import CollectionError, TransientCollectionError
from posture.scanning.collectors.listing import PARTIAL_METADATA, Unreadable, read_all
from posture.scanning.collectors.resources import (
    OPTIONAL_GROUPS,
    RESOURCE_TYPES,
    SECRET_MANAGER_GROUPS,
    ResourceType,
    required_rbac_rules,
)
from posture.scanning.collectors.transport import Transport, TransportError, describe_status
from posture.scanning.inventory import Inventory

__all__ = [
    "PARTIAL_METADATA",
    "RESOURCE_TYPES",
    "SECRET_MANAGER_GROUPS",
    "CollectionError",
    "Connection",
    "ConnectionReport",
    "InvalidConnection",
    "LiveCollection",
    "ResourceAccess",
    "ResourceType",
    "collect",
    "collect_with_details",
    "connection_from",
    "required_rbac_rules",
    "test_connection",
]

logger = logging.getLogger(__name__)

DEFAULT_PAGE_SIZE = 500
DEFAULT_REQUEST_TIMEOUT = 30.0
DEFAULT_WORKERS = 4  # resource types listed at the same time


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
    status: str  # readable | forbidden | not_served | not_installed | not_tried | timeout | error
    reason: str = ""

    @property
    def status_label(self) -> str:
        return self.status.replace("_", " ")

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
    through: str = ""  # a kubeconfig's: the context used ("kubeconfig context 'prod'"), named or current
    ok: bool = False  # reached and authenticated
    error: str = ""  # why not, in one line
    attempted: bool = True  # False: the settings were refused before any request (error says why)
    server_version: str = ""
    kube_system_uid: str = ""  # which cluster answered (posture/cluster_identity.py); "" if unknown
    resources: list[ResourceAccess] = field(default_factory=list)
    secret_managers: dict[str, str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    seconds: float = 0.0
    time_allowed: float = 0.0  # the test's deadline: the types left when it passes are not tried

    @property
    def readable(self) -> list[ResourceAccess]:
        return [access for access in self.resources if access.status == "readable"]

    @property
    def not_installed(self) -> list[ResourceAccess]:
        return [access for access in self.resources if access.status == "not_installed"]

    @property
    def not_installed_kinds(self) -> list[str]:
        return _kind_names(self.not_installed)

    @property
    def not_tried(self) -> list[ResourceAccess]:
        """Left when the test ran out of time: nothing is known about them, a scan reads them."""
        return [access for access in self.resources if access.status == "not_tried"]

    @property
    def not_tried_kinds(self) -> list[str]:
        return _kind_names(self.not_tried)

    @property
    def unreadable(self) -> list[ResourceAccess]:
        """Tried and refused (forbidden, not served, timed out, failed): a scan would miss them too."""
        return [
            access
            for access in self.resources
            if access.status not in ("readable", "not_installed", "not_tried")
        ]

    def as_dict(self) -> dict:
        return {
            "api_url": self.api_url,
            "through": self.through,
            "ok": self.ok,
            "error": self.error,
            "attempted": self.attempted,
            "server_version": self.server_version,
            "kube_system_uid": self.kube_system_uid,
            "resources": [access.as_dict() for access in self.resources],
            "secret_managers": dict(self.secret_managers),
            "warnings": list(self.warnings),
            "seconds": round(self.seconds, 3),
            "time_allowed": self.time_allowed,
        }


def _kind_names(accesses: list[ResourceAccess]) -> list[str]:
    """One name per resource type: the kind, with its API group where two groups share it."""
    shared = {
        kind for kind in (access.kind for access in accesses) if sum(a.kind == kind for a in accesses) > 1
    }
    return [
        f"{access.kind} ({access.group})" if access.kind in shared else access.kind for access in accesses
    ]


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
                rtype: pool.submit(read_all, transport, rtype, version, page_size) for rtype, version in plan
            }
            try:
                for rtype, future in futures.items():
                    try:
                        objects_by_type[rtype] = future.result()
                    except Unreadable as exc:
                        logger.warning("%s: %s not collected: %s", connection.api_url, rtype.kind, exc.reason)
                        gaps[rtype.inventory_kind] = exc.reason
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
def test_connection(
    connection: Connection,
    *,
    request_timeout: float = 5.0,  # noqa: PT028
    deadline: float = 20.0,  # noqa: PT028
    resource_types: Iterable[ResourceType] = RESOURCE_TYPES,  # noqa: PT028
    clock: Callable[[], float] = time.monotonic,  # noqa: PT028
) -> ConnectionReport:
    """Try one small list per resource type. Never raises for cluster problems: they are in the report.

    The user waits on a web request: after ``deadline`` seconds the remaining types are
    reported as not tried rather than keeping them (and the web worker) waiting.
    """
    started = clock()
    report = ConnectionReport(
        api_url=connection.api_url,
        through=connection.description if connection.mode == "kubeconfig" else "",
        warnings=connection.warnings,
        time_allowed=deadline,
    )
    resource_types = tuple(resource_types)
    try:
        with open_api_client(connection, pool_size=1) as api_client:
            transport = Transport(api_client, connection, request_timeout)
            discovery = _discover(transport)
            report.ok = True
            report.server_version = str((discovery.version or {}).get("gitVersion") or "")
            report.kube_system_uid = _kube_system_uid(transport)
            plan, gaps = _plan(resource_types, discovery)
            planned = dict(plan)
            for rtype in resource_types:
                if rtype.inventory_kind in gaps:  # discovery says its group or version is not served
                    report.resources.append(_access(rtype, "not_served", gaps[rtype.inventory_kind]))
                elif rtype not in planned:
                    report.resources.append(_access(rtype, "not_installed", "its API group is not installed"))
                elif clock() - started > deadline:
                    reason = f"the test stops after {deadline:g} s and this server answers slowly"
                    report.resources.append(_access(rtype, "not_tried", reason))
                else:
                    try:
                        read_all(transport, rtype, planned[rtype], page_size=1, max_pages=1)
                    except Unreadable as exc:
                        report.resources.append(_access(rtype, exc.status, exc.reason))
                    else:
                        report.resources.append(_access(rtype, "readable"))
            report.secret_managers = _secret_managers_read(report.resources)
    except CollectionError as exc:
        report.ok = False
        report.error = str(exc)
    report.seconds = clock() - started
    return report


test_connection.__test__ = False  # a test module that imports it must not collect it


def _kube_system_uid(transport: Transport) -> str:
    """The kube-system namespace's uid, listed by name (the scanner may list, not get), or "" when it
    cannot be read: it only tells clusters apart, so a test never fails for it."""
    query = [("fieldSelector", f"metadata.name={KUBE_SYSTEM}"), ("limit", 1)]
    try:
        response = transport.get("/api/v1/namespaces", query)
    except TransportError:
        return ""
    try:
        document = orjson.loads(response.body) if response.status == 200 else {}
    except orjson.JSONDecodeError:
        return ""
    items = document.get("items") if isinstance(document, dict) else None
    if not isinstance(items, list):
        return ""
    return kube_system_uid({**item, "kind": "Namespace"} for item in items if isinstance(item, dict))


def _secret_managers_read(resources: list[ResourceAccess]) -> dict[str, str]:
    """The secret managers one of whose kinds the test read. A served API group alone is not
    reported: on a slow server its kinds may not have been tried, and the test says what it read."""
    read = {access.group for access in resources if access.status == "readable"}
    return {group: name for group, name in SECRET_MANAGER_GROUPS.items() if group in read}


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
    # Which kinds an add-on serves varies by release: ask its group.
    for group in OPTIONAL_GROUPS:
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
        # Nothing has answered yet: the cluster cannot be read at all (perhaps only for now).
        error = TransientCollectionError if exc.transient else CollectionError
        raise error(exc.message) from None
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
                gaps[rtype.inventory_kind] = f"API version {rtype.version} is not served by this cluster"
            continue
        served = discovery.groups.get(rtype.group)
        if rtype.group in OPTIONAL_GROUPS:
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
            gaps[rtype.inventory_kind] = (
                f"API group not served: {rtype.group} is not available on this cluster"
            )
        elif rtype.version not in served[0]:
            gaps[rtype.inventory_kind] = (
                f"API version not served: {rtype.group_version} is not available "
                f"(the cluster serves {', '.join(served[0]) or 'no versions'})"
            )
        else:
            plan.append((rtype, rtype.version))
    return plan, gaps
