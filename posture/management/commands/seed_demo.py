"""Create a demo team, user and cluster with 30 days of scan history."""

import secrets
from datetime import timedelta

import orjson
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from accounts.models import Membership, Role, Team
from posture import services
from posture.demo import as_list_document, generate_cluster
from posture.models import Cluster, ConnectionMode, ScanTrigger

DEMO_CLUSTER = "demo-shop-prod"
DEMO_USER = "admin"


class Command(BaseCommand):
    help = "Seed a demo cluster with 30 days of scans (idempotent: does nothing if it exists)."

    def add_arguments(self, parser):
        parser.add_argument("--days", type=int, default=30)
        parser.add_argument("--workloads", type=int, default=40)

    def handle(self, *args, days, workloads, **options):
        password = self._ensure_user()
        if Cluster.objects.filter(name=DEMO_CLUSTER).exists():
            self.stdout.write(f"Demo cluster {DEMO_CLUSTER} already exists.")
        else:
            self._seed(days, workloads)
        self.stdout.write(
            self.style.SUCCESS(f"Log in as {DEMO_USER!r} with password {password!r}")
            + f" (kept in {settings.DATA_DIR / 'demo-password'})"
        )

    def _ensure_user(self) -> str:
        path = settings.DATA_DIR / "demo-password"
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.exists():
            path.write_text(secrets.token_urlsafe(12), encoding="utf-8")
            path.chmod(0o600)
        password = path.read_text(encoding="utf-8").strip()
        user, _ = get_user_model().objects.get_or_create(username=DEMO_USER, defaults={"is_staff": True})
        user.is_superuser = True
        user.is_staff = True
        user.set_password(password)
        user.save()
        team, _ = Team.objects.get_or_create(slug="platform", defaults={"name": "Platform"})
        Membership.objects.update_or_create(team=team, user=user, defaults={"role": Role.ADMIN})
        return password

    def _seed(self, days: int, workloads: int) -> None:
        team = Team.objects.get(slug="platform")
        with transaction.atomic():
            cluster = services.save_cluster(
                Cluster(
                    name=DEMO_CLUSTER,
                    team=team,
                    connection_mode=ConnectionMode.SNAPSHOT,
                    description="Generated demo: an online shop with eight teams' namespaces",
                )
            )
        # One scan a day at 03:00 UTC, the last one the most recent 03:00 that has passed:
        # seeded before 03:00, "today's" scan would otherwise show as minutes from now.
        now = timezone.now()
        latest = now.replace(hour=3, minute=0, second=0, microsecond=0)
        if latest > now:
            latest -= timedelta(days=1)
        start = latest - timedelta(days=days - 1)
        for day in range(days):
            at = start + timedelta(days=day)
            data = orjson.dumps(as_list_document(generate_cluster(workloads, day=day)))
            snapshot = services.store_snapshot(cluster, data)
            scan = services.start_scan(
                cluster, trigger=ScanTrigger.UPLOAD, snapshot=snapshot, at=at, enqueue=False
            )
            scan = services.run_scan(scan.pk, now=at)
            self.stdout.write(
                f"  day {day + 1:>2}: {scan.status}, score {scan.score}, {scan.findings_count} findings"
            )
