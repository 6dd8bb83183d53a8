"""Notifications: webhooks and Slack-compatible webhooks for scans and a daily digest.

    notify_scan_finished(scan)   # posture.services calls it when a scan ends
    send_overdue_digests()       # daily beat tasks: overdue findings,
    send_agent_alerts()          # and agents that went silent or whose token expires soon

One message per scan or digest per endpoint (never one per finding), delivered
by Celery tasks on the ``notifications`` queue with exponential backoff; every
attempt is logged (NotificationDelivery / NotificationAttempt).
"""

from posture.notifications import tasks  # noqa: F401,E402 - registers the Celery tasks
from posture.notifications.service import notify_scan_finished, send_agent_alerts, send_overdue_digests

__all__ = ["notify_scan_finished", "send_agent_alerts", "send_overdue_digests"]
