from django.db import models


class FindingQuerySet(models.QuerySet):
    def for_user(self, user):
        from posture.models import Cluster

        return self.filter(cluster__in=Cluster.objects.for_user(user))

    def live(self):
        from findings.models import FindingStatus

        return self.filter(status__in=FindingStatus.live())

    def open(self):
        from findings.models import FindingStatus

        return self.filter(status__in=[FindingStatus.OPEN, FindingStatus.ACKNOWLEDGED])

    def overdue(self, now):
        """Open or acknowledged findings past their SLA due date."""
        return self.open().filter(due_at__lt=now)
