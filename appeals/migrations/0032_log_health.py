"""Account health from the operation log: the per-account, per-day metrics on each analysis
(a new column with a database default: no backfill, no rewrite), and the health rules among the
risk-flag choices (choices only: no SQL)."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('appeals', '0031_webhooks'),
    ]

    operations = [
        migrations.AddField(
            model_name='loganalysis',
            name='health',
            field=models.JSONField(blank=True, db_default=models.Value({}, output_field=models.JSONField()), default=dict, verbose_name='account health'),
        ),
        migrations.AlterField(
            model_name='riskflag',
            name='rule',
            field=models.CharField(choices=[('mass_add', 'Mass adding of friends'), ('sensitive_words', 'Sensitive words'), ('location_anomaly', 'New device with an unfamiliar IP'), ('permission', 'Action not allowed for the account type'), ('health_accept_low', 'Friend request acceptance rate too low'), ('health_reply_low', 'Reply rate too low'), ('health_delblock_high', 'Delete/block rate too high'), ('health_complaints', 'Complaints too high'), ('health_active_spike', 'Daily activity spike')], max_length=20, verbose_name='rule'),
        ),
    ]
