"""Celery tasks (queue ``notifications``: the route in settings sends every ``notifications.*`` there)."""

from celery import shared_task
from django.conf import settings

from posture.in_process import NOT_RETRIED as IN_PROCESS
from posture.notifications import delivery


@shared_task(bind=True, name="notifications.deliver", max_retries=None, acks_late=True)
def deliver_task(self, delivery_id: int) -> str:
    result = delivery.attempt(delivery_id)
    if result.delivered:
        return "delivered"
    if not result.retry:
        return "failed"
    delays = settings.RAMPART_NOTIFICATION_RETRY_DELAYS
    if self.request.retries >= len(delays):
        delivery.give_up(delivery_id)
        return "failed"
    delay = delays[self.request.retries]
    if self.request.is_eager and delay > 0:
        # Tasks run in-process (the embedded default): the retry would run at once, not after its
        # delay, and hold up the request that queued it. The delivery log says why there is no other.
        delivery.give_up(delivery_id, note=IN_PROCESS)
        return "failed"
    raise self.retry(countdown=delay)


@shared_task(name="notifications.send_agent_alerts")
def send_agent_alerts_task() -> int:
    from posture.notifications.service import send_agent_alerts

    return send_agent_alerts()


@shared_task(name="notifications.send_overdue_digests")
def send_overdue_digests_task() -> int:
    from posture.notifications.service import send_overdue_digests

    return send_overdue_digests()
