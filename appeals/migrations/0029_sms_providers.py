"""SMS failover: the provider each outbox message was last handed to, and whether that call's
outcome is still unknown (new columns with database defaults: no rewrite, no backfill); the
managers' stored provider credentials (a new table, the secret encrypted)."""

from django.conf import settings
from django.db import migrations, models

import django.db.models.deletion

import appeals.shared.secrets


class Migration(migrations.Migration):
    dependencies = [("appeals", "0028_recovery_plans"), migrations.swappable_dependency(settings.AUTH_USER_MODEL)]

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
        migrations.CreateModel(
            name="SmsProviderAccount",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("provider", models.CharField(max_length=20, unique=True, verbose_name="SMS provider")),
                ("key_id", models.CharField(max_length=128, verbose_name="key ID")),
                ("secret", appeals.shared.secrets.EncryptedTextField(verbose_name="secret key")),
                ("updated_at", models.DateTimeField(auto_now=True, verbose_name="updated")),
                ("updated_by", models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL,
                                                 related_name="+", to=settings.AUTH_USER_MODEL)),
            ],
            options={"verbose_name": "SMS provider account", "verbose_name_plural": "SMS provider accounts"},
        ),
    ]
