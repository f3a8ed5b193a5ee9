# The outbox says what a message is about (a surge alert, an SLA notice), so every kind of
# message can live in the one Message table. Both columns are safe while the previous
# version serves: `topic` has a database default, `topic_id` is nullable.

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('appeals', '0008_surge'),
    ]

    operations = [
        migrations.AddField(
            model_name='message',
            name='topic',
            field=models.CharField(blank=True, db_default='', default='', max_length=40, verbose_name='topic'),
        ),
        migrations.AddField(
            model_name='message',
            name='topic_id',
            field=models.BigIntegerField(blank=True, null=True, verbose_name='topic id'),
        ),
    ]
