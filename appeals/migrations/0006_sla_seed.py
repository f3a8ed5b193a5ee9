"""Seed the SLA policies (from settings.APPEALS_SLA) and the China working-day calendar
(from the `holidays` library). Both tables are corrected by managers afterwards."""

from django.conf import settings
from django.db import migrations


def forward(apps, schema_editor):
    from appeals.sla.calendar import china_calendar_exceptions

    SlaPolicy = apps.get_model("appeals", "SlaPolicy")
    WorkCalendarDay = apps.get_model("appeals", "WorkCalendarDay")
    handling = {"minor": "automatic", "medium": "manual review", "severe": "deep investigation"}
    for severity, (unit, amount) in settings.APPEALS_SLA["POLICIES"].items():
        SlaPolicy.objects.get_or_create(severity=severity, defaults={"unit": unit, "amount": amount, "handling": handling.get(severity, "")})
    days = china_calendar_exceptions(settings.APPEALS_SLA["CALENDAR_SEED_YEARS"])
    existing = set(WorkCalendarDay.objects.values_list("date", flat=True))
    WorkCalendarDay.objects.bulk_create(
        [WorkCalendarDay(date=d, is_working=w, note=n, source="library") for d, (w, n) in sorted(days.items()) if d not in existing]
    )


def backward(apps, schema_editor):
    apps.get_model("appeals", "WorkCalendarDay").objects.filter(source="library").delete()


class Migration(migrations.Migration):
    dependencies = [("appeals", "0005_sla")]
    operations = [migrations.RunPython(forward, backward)]
