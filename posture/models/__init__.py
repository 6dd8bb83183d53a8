from posture.models.agents import AgentPush, IngestToken
from posture.models.clusters import Cluster, ConnectionMode, Snapshot
from posture.models.notifications import (
    NotificationAttempt,
    NotificationDelivery,
    NotificationEndpoint,
    NotificationEvent,
)
from posture.models.scans import Scan, ScanStatus, ScanTrigger

__all__ = [
    "AgentPush",
    "Cluster",
    "ConnectionMode",
    "IngestToken",
    "NotificationAttempt",
    "NotificationDelivery",
    "NotificationEndpoint",
    "NotificationEvent",
    "Scan",
    "ScanStatus",
    "ScanTrigger",
    "Snapshot",
]
