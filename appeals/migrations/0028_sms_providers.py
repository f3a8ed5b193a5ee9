"""SMS failover: the provider each outbox message was last handed to, and whether that call's
outcome is still unknown (new columns with database defaults: no rewrite, no backfill)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("appeals", "0024_outcome_codes")]

    operations = [
        migrations.AddField(
            model_name="message",
            name="sms_provider",
            field=models.CharField(blank=True, db_default="", default="", max_length=20, verbose_name="SMS provider"),
        ),
        migrations.AddField(
            model_name="message",
            name="sms_outcome_unknown",
            field=models.BooleanField(db_default=False, default=False),
        ),
    ]
