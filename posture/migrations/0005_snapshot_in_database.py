from django.db import migrations, models


def drop_file_snapshots(apps, schema_editor):
    # Their files stay on the old machine's disk and cannot move with the rows;
    # scans keep their results and simply lose the link to the upload.
    apps.get_model("posture", "Snapshot").objects.all().delete()


class Migration(migrations.Migration):
    """Snapshots move from files on the web machine's disk into the database,
    so that workers on other machines can read them."""

    dependencies = [
        ("posture", "0004_agents_notifications"),
    ]

    operations = [
        migrations.RunPython(drop_file_snapshots, migrations.RunPython.noop),
        migrations.RemoveField(model_name="snapshot", name="file"),
        migrations.AddField(
            model_name="snapshot",
            name="content",
            field=models.BinaryField(default=b""),
            preserve_default=False,
        ),
    ]
