from collections import defaultdict

from django.db import migrations, models
from django.db.models import Count


def backfill_latest_scans(apps, schema_editor):
    """Each cluster's latest scan gets its per-check counts from the findings as they are now, so the
    overview's "top failing checks" is right before the next scan (older scans keep none)."""
    Cluster = apps.get_model("posture", "Cluster")
    Scan = apps.get_model("posture", "Scan")
    Finding = apps.get_model("findings", "Finding")
    latest = dict(Cluster.objects.exclude(last_scan=None).values_list("pk", "last_scan_id"))
    counts = defaultdict(dict)
    rows = (
        Finding.objects.filter(cluster_id__in=list(latest), status__in=["open", "acknowledged"])
        .order_by()
        .values_list("cluster_id", "check_id")
        .annotate(count=Count("pk"))
    )
    for cluster_id, check_id, count in rows:
        counts[cluster_id][check_id] = count
    for cluster_id, scan_id in latest.items():
        Scan.objects.filter(pk=scan_id).update(counts_by_check=counts.get(cluster_id, {}))


class Migration(migrations.Migration):
    dependencies = [
        ("posture", "0005_snapshot_in_database"),
        ("findings", "0006_check_index"),
    ]

    operations = [
        migrations.AddField(
            model_name="scan",
            name="counts_by_check",
            field=models.JSONField(blank=True, default=dict),
        ),
        migrations.RunPython(backfill_latest_scans, migrations.RunPython.noop),
    ]
