"""Search rows for every appeal (appeals/core/search.py): the table, its GIN index (PostgreSQL,
built concurrently) and a backfill in batches of 500 through the same code the services use."""

import django.contrib.postgres.search
import django.db.models.deletion
from django.db import migrations, models

from appeals.core import search


def gin_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            "CREATE INDEX CONCURRENTLY IF NOT EXISTS appealsearch_vector ON appeals_appealsearch USING gin (vector)"
        )


def drop_gin_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP INDEX CONCURRENTLY IF EXISTS appealsearch_vector")


def backfill(apps, schema_editor):
    Appeal = apps.get_model("appeals", "Appeal")
    last = 0
    while True:
        ids = list(Appeal.objects.filter(pk__gt=last).order_by("pk").values_list("pk", flat=True)[:500])
        if not ids:
            return
        search.refresh(ids)
        last = ids[-1]


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("appeals", "0020_records"),
    ]

    operations = [
        migrations.CreateModel(
            name='AppealSearch',
            fields=[
                ('appeal', models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, primary_key=True, related_name='+', serialize=False, to='appeals.appeal')),
                ('document', models.TextField(blank=True, default='')),
                ('vector', django.contrib.postgres.search.SearchVectorField(null=True)),
            ],
            options={
                'db_table': 'appeals_appealsearch',
            },
        ),
        migrations.RunPython(gin_index, drop_gin_index, elidable=True),
        migrations.RunPython(backfill, migrations.RunPython.noop, elidable=True),
    ]
