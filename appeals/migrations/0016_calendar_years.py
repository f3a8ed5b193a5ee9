"""Which years' working-day calendars are confirmed (CalendarYear), and a flag on each SLA clock
whose due time reached into a year that is not.

Seeded: 2024-2026 from the `holidays` library, which carries the State Council's published
schedules for them (holidays and make-up working days), are confirmed; 2027 has only the
library's estimate (no make-up working days) and is not. Open working-day clocks already due
in 2027 or later are flagged."""

from datetime import datetime
from zoneinfo import ZoneInfo

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

CONFIRMED = {2024: "State Council schedule (holidays library)", 2025: "State Council schedule (holidays library)",
             2026: "State Council schedule (holidays library)"}
ESTIMATED = {2027: "holidays library estimate: no official schedule yet"}


def forward(apps, schema_editor):
    CalendarYear = apps.get_model("appeals", "CalendarYear")
    AppealSla = apps.get_model("appeals", "AppealSla")
    for year, source in CONFIRMED.items():
        CalendarYear.objects.update_or_create(year=year, defaults={"confirmed": True, "source": source})
    for year, source in ESTIMATED.items():
        CalendarYear.objects.get_or_create(year=year, defaults={"confirmed": False, "source": source})
    first_unconfirmed = datetime(max(CONFIRMED) + 1, 1, 1, tzinfo=ZoneInfo("Asia/Shanghai"))
    AppealSla.objects.filter(unit="working_days", closed_at__isnull=True, due_at__gte=first_unconfirmed).update(
        calendar_unconfirmed=True
    )


def backward(apps, schema_editor):
    pass


class Migration(migrations.Migration):
    dependencies = [
        ("appeals", "0015_evidence_links_canonical_phones"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="appealsla",
            name="calendar_unconfirmed",
            field=models.BooleanField(db_default=False, default=False, verbose_name="calendar not confirmed"),
        ),
        migrations.AlterField(
            model_name="workcalendarday",
            name="source",
            field=models.CharField(
                choices=[("library", "holidays library"), ("manual", "manual correction"), ("official", "official schedule")],
                default="library", max_length=10, verbose_name="source",
            ),
        ),
        migrations.CreateModel(
            name="CalendarYear",
            fields=[
                ("year", models.PositiveSmallIntegerField(primary_key=True, serialize=False, verbose_name="year")),
                ("confirmed", models.BooleanField(default=False, verbose_name="confirmed")),
                ("source", models.CharField(blank=True, max_length=200, verbose_name="source")),
                ("confirmed_at", models.DateTimeField(blank=True, null=True, verbose_name="confirmed at")),
                ("reminded_at", models.DateTimeField(blank=True, null=True)),
                ("confirmed_by", models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT,
                                                   related_name="+", to=settings.AUTH_USER_MODEL)),
            ],
            options={"verbose_name": "calendar year", "verbose_name_plural": "calendar years", "ordering": ["year"]},
        ),
        migrations.RunPython(forward, backward),
    ]
