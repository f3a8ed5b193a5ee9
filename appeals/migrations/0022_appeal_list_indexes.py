# Indexes for the appeal list's newest-first order (appeals/core/selectors.appeal_list_for),
# built without locking the table.

from django.db import migrations, models

from appeals.shared.migration_ops import AddIndexConcurrentlyOnPostgres


class Migration(migrations.Migration):

    atomic = False

    dependencies = [
        ("appeals", "0021_appeal_search"),
    ]

    operations = [
        AddIndexConcurrentlyOnPostgres(
            model_name='appeal',
            index=models.Index(condition=models.Q(('state', 'draft'), _negated=True), fields=['-created_at', '-id'], name='appeal_desk_list'),
        ),
        AddIndexConcurrentlyOnPostgres(
            model_name='appeal',
            index=models.Index(fields=['enterprise', '-created_at', '-id'], name='appeal_tenant_list'),
        ),
        AddIndexConcurrentlyOnPostgres(
            model_name='appeal',
            index=models.Index(fields=['state', '-created_at', '-id'], name='appeal_state_list'),
        ),
    ]
