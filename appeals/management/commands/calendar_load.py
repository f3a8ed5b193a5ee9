"""Import an official working-day schedule (holidays and make-up working days) and mark its
years confirmed: `manage.py calendar_load 2027.csv --source "国务院办公厅通知 国办发明电〔2026〕X号"`.

CSV (`date,kind,name`, kind holiday|workday) or ICS; see appeals/sla/calendar_years.py."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from appeals.core.models import User
from appeals.shared.exceptions import DomainError
from appeals.sla.calendar_years import parse_schedule, work_calendar_load


class Command(BaseCommand):
    help = "Load an official holiday schedule (CSV date,kind,name or ICS) and mark its years confirmed."

    def add_arguments(self, parser):
        parser.add_argument("file", help="CSV (date,kind,name) or .ics file")
        parser.add_argument("--source", default="", help="Where the schedule comes from (the notice's name and number)")
        parser.add_argument("--by", default="", help="Username of the manager who loads it (recorded in the audit)")

    def handle(self, *args, file, source, by, **options):
        path = Path(file)
        if not path.is_file():
            raise CommandError(f"No such file: {file}")
        user = None
        if by:
            user = User.objects.filter(username=by).first()
            if user is None or not user.is_manager:
                raise CommandError(f"{by!r} is not a manager")
        try:
            days = parse_schedule(path.name, path.read_bytes())
            result = work_calendar_load(days=days, source=source or path.name, by=user)
        except DomainError as exc:
            problems = [m for messages in exc.fields.values() for m in messages] or [exc.message]
            raise CommandError("\n".join(str(p) for p in problems)) from None
        self.stdout.write(
            f"Confirmed {', '.join(map(str, result.years))}: {result.holidays} holidays, "
            f"{result.workdays} make-up working days; {result.rescheduled} open clocks recomputed."
        )
