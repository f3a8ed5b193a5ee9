from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("appeals", "0012_evidence_sweep_requeues"),
    ]

    operations = [
        migrations.AddField(
            model_name="evidenceitem",
            name="link_targets",
            field=models.JSONField(blank=True, db_default=models.Value([], output_field=models.JSONField()), default=list),
        ),
    ]
