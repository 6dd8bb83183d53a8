from posture.models.clusters import Cluster, ConnectionMode, Snapshot
from posture.models.scans import Scan, ScanStatus, ScanTrigger

__all__ = ["Cluster", "ConnectionMode", "Scan", "ScanStatus", "ScanTrigger", "Snapshot"]
