"""Merge one scan's findings into the findings table in a few set-based statements.

Rows go into a temporary staging table (COPY on PostgreSQL, executemany
elsewhere), then one ``INSERT ... SELECT ... ON CONFLICT (cluster, fingerprint)
DO UPDATE ... RETURNING`` inserts the new findings and refreshes the ones seen
before. Status, assignee, due date and first-seen fields are never touched by
the update: what people decided survives every rescan.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple

import orjson
from django.db import connection

from findings.models import Finding

STAGE = "rampart_finding_stage"
_JSON = orjson.OPT_NON_STR_KEYS
STAGE_COLUMNS = (
    "fingerprint", "check_id", "severity", "category", "kind", "namespace", "name", "container",
    "message", "evidence", "labels", "due_at",
)  # fmt: skip
UPDATED_ON_CONFLICT = (
    "severity", "category", "message", "evidence", "labels",
    "last_seen_at", "last_seen_scan_id", "updated_at",
)  # fmt: skip


class StagedFinding(NamedTuple):
    """One row of the staging table, in STAGE_COLUMNS order (evidence and labels as JSON text)."""

    fingerprint: str
    check_id: str
    severity: str
    category: str
    kind: str
    namespace: str
    name: str
    container: str
    message: str
    evidence: str
    labels: str
    due_at: datetime


@dataclass(frozen=True)
class MergeResult:
    new_ids: list[int]
    seen_ids: list[int]


def merge(scan, rows: Iterable[StagedFinding], *, now: datetime) -> MergeResult:
    """Insert or refresh ``rows`` for ``scan.cluster``; returns which ids were new."""
    table = Finding._meta.db_table
    is_postgres = connection.vendor == "postgresql"
    json_cast = "::jsonb" if is_postgres else ""
    ops = connection.ops
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {STAGE}")
        cursor.execute(
            f"CREATE TEMPORARY TABLE {STAGE} (fingerprint varchar(64) NOT NULL, "
            "check_id varchar(64) NOT NULL, severity varchar(10) NOT NULL, category varchar(16) NOT NULL, "
            "kind varchar(64) NOT NULL, namespace varchar(253) NOT NULL, name varchar(253) NOT NULL, "
            "container varchar(253) NOT NULL, message text NOT NULL, evidence text NOT NULL, "
            f"labels text NOT NULL, due_at {_timestamp_type()})"
        )
        _load_stage(cursor, rows, is_postgres)
        target_columns = (
            "cluster_id", *STAGE_COLUMNS, "status", "status_reason", "first_seen_at", "last_seen_at",
            "first_seen_scan_id", "last_seen_scan_id", "updated_at",
        )  # fmt: skip
        select = (
            "%s, s.fingerprint, s.check_id, s.severity, s.category, s.kind, s.namespace, s.name, "
            "s.container, "
            f"s.message, s.evidence{json_cast}, s.labels{json_cast}, s.due_at, 'open', '', %s, %s, %s, %s, %s"
        )
        stamp = ops.adapt_datetimefield_value(now)
        # "WHERE true" keeps SQLite's parser from reading ON CONFLICT as a join constraint.
        cursor.execute(
            f"INSERT INTO {table} ({', '.join(target_columns)}) SELECT {select} FROM {STAGE} s WHERE true "  # noqa: S608 - identifiers are constants
            f"ON CONFLICT (cluster_id, fingerprint) DO UPDATE SET "
            + ", ".join(f"{column} = excluded.{column}" for column in UPDATED_ON_CONFLICT)
            + " RETURNING id, first_seen_scan_id",
            [scan.cluster_id, stamp, stamp, scan.pk, scan.pk, stamp],
        )
        returned = cursor.fetchall()
        cursor.execute(f"DROP TABLE {STAGE}")
    new_ids = [finding_id for finding_id, first_scan in returned if first_scan == scan.pk]
    return MergeResult(new_ids=new_ids, seen_ids=[finding_id for finding_id, _ in returned])


def _timestamp_type() -> str:
    return "timestamp with time zone" if connection.vendor == "postgresql" else "datetime"


def _load_stage(cursor, rows: Iterable[StagedFinding], is_postgres: bool) -> None:
    if is_postgres:
        raw = cursor.cursor  # the psycopg cursor underneath Django's wrapper, same transaction
        with raw.copy(f"COPY {STAGE} ({', '.join(STAGE_COLUMNS)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        return
    adapt = connection.ops.adapt_datetimefield_value
    batch = []
    placeholders = ", ".join(["%s"] * len(STAGE_COLUMNS))
    sql = f"INSERT INTO {STAGE} ({', '.join(STAGE_COLUMNS)}) VALUES ({placeholders})"  # noqa: S608 - constants
    for row in rows:
        batch.append((*row[:-1], adapt(row.due_at)))
        if len(batch) >= 5000:
            cursor.executemany(sql, batch)
            batch.clear()
    if batch:
        cursor.executemany(sql, batch)
