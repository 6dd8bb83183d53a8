import django.db.models.functions.text
from django.db import migrations, models


def rename_same_names_in_a_team(apps, schema_editor):
    """Names were unique as written: "prod" and "PROD" could share a team. Keep the older one's name
    and give the others their id, so the new constraint can be added without losing a cluster."""
    Cluster = apps.get_model("posture", "Cluster")
    seen = set()
    for cluster in Cluster.objects.order_by("team_id", "id").only("id", "team_id", "name"):
        key = (cluster.team_id, cluster.name.lower())
        if key in seen:
            suffix = f" ({cluster.pk})"
            cluster.name = cluster.name[: 100 - len(suffix)] + suffix
            cluster.save(update_fields=["name"])
        seen.add((cluster.team_id, cluster.name.lower()))


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0002_mfa_throttle_audit"),
        ("posture", "0008_scan_cluster_finished_index"),
    ]

    operations = [
        migrations.AlterField(
            model_name="cluster",
            name="name",
            field=models.CharField(max_length=100),
        ),
        migrations.RunPython(rename_same_names_in_a_team, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="cluster",
            constraint=models.UniqueConstraint(
                django.db.models.functions.text.Lower("name"),
                models.F("team"),
                name="cluster_name_unique_in_team",
                violation_error_message="This team already has a cluster of this name.",
            ),
        ),
    ]
