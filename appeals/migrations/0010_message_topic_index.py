# The index behind "the messages about this alert / notice", built without locking the
# outbox table (CREATE INDEX CONCURRENTLY on PostgreSQL; a plain index elsewhere).

from django.db import migrations, models

from appeals.shared.migration_ops import AddIndexConcurrentlyOnPostgres


class Migration(migrations.Migration):

    atomic = False

    dependencies = [
        ('appeals', '0009_message_topic'),
    ]

    operations = [
        AddIndexConcurrentlyOnPostgres(
            model_name='message',
            index=models.Index(condition=models.Q(('topic', ''), _negated=True), fields=['topic', 'topic_id'], name='message_topic'),
        ),
    ]
