# The findings list's sort orders as indexes (pages and API): at a million findings a page
# of 50 is an index walk instead of a sort of every row (bench/pages.py, docs/benchmarks.md).

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("findings", "0003_finding_cluster_index"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="finding",
            index=models.Index(
                models.OrderBy(
                    models.Case(
                        models.When(severity="critical", then=models.Value(4)),
                        models.When(severity="high", then=models.Value(3)),
                        models.When(severity="medium", then=models.Value(2)),
                        models.When(severity="low", then=models.Value(1)),
                        models.When(severity="info", then=models.Value(0)),
                        default=models.Value(-1),
                        output_field=models.IntegerField(),
                    ),
                    descending=True,
                ),
                models.OrderBy(models.F("last_seen_at"), descending=True),
                models.OrderBy(models.F("id"), descending=True),
                name="finding_rank_last_seen",
            ),
        ),
        migrations.AddIndex(
            model_name="finding",
            index=models.Index(
                models.OrderBy(models.F("last_seen_at"), descending=True),
                models.OrderBy(models.F("id"), descending=True),
                name="finding_last_seen",
            ),
        ),
        migrations.AddIndex(
            model_name="finding",
            index=models.Index(fields=["first_seen_at", "id"], name="finding_first_seen"),
        ),
        migrations.AddIndex(
            model_name="finding",
            index=models.Index(fields=["due_at", "id"], name="finding_due"),
        ),
    ]
