# The index behind the "about to breach" figure of /metrics (appeals/ops/gauges.py): running
# clocks of open cases by warning time, built without locking the SLA table (CREATE INDEX
# CONCURRENTLY on PostgreSQL; a plain index elsewhere).

from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models
from django.db.migrations.operations import AddIndex


class AddIndexConcurrentlyOnPostgres(AddIndexConcurrently):
    """AddIndexConcurrently where the database has it; AddIndex on SQLite (`make run`)."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == 'postgresql':
            return super().database_forwards(app_label, schema_editor, from_state, to_state)
        return AddIndex.database_forwards(self, app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == 'postgresql':
            return super().database_backwards(app_label, schema_editor, from_state, to_state)
        return AddIndex.database_backwards(self, app_label, schema_editor, from_state, to_state)


class Migration(migrations.Migration):

    atomic = False

    dependencies = [
        ("appeals", "0016_calendar_years"),
    ]

    operations = [
        AddIndexConcurrentlyOnPostgres(
            model_name='appealsla',
            index=models.Index(condition=models.Q(('closed_at__isnull', True), ('running_since__isnull', False)), fields=['warn_at'], name='sla_open_warn'),
        ),
    ]
