"""manage.py audit_archive --before DATE --out FILE: export audit events past the retention."""

from datetime import datetime
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from appeals.records.retention import audit_archive, audit_retention_cutoff
from appeals.shared.exceptions import ValidationFailed


class Command(BaseCommand):
    help = ("Export the audit events older than --before (default: the AUDIT_RETENTION_DAYS cut-off) as JSON lines "
            "with their hashes. Refuses a cut-off younger than the retention. Deletes nothing: the chain is append-only.")

    def add_arguments(self, parser):
        parser.add_argument("--before", help="YYYY-MM-DD (local time); default: now minus AUDIT_RETENTION_DAYS")
        parser.add_argument("--out", required=True)

    def handle(self, *args, **options):
        if options["before"]:
            try:
                before = timezone.make_aware(datetime.strptime(options["before"], "%Y-%m-%d"))
            except ValueError:
                raise CommandError("--before: use YYYY-MM-DD")
        else:
            before = audit_retention_cutoff()
        try:
            result = audit_archive(before=before, out=Path(options["out"]))
        except ValidationFailed as exc:
            raise CommandError(" ".join(m for msgs in exc.fields.values() for m in msgs))
        self.stdout.write(f"{result.count} events archived to {options['out']} (positions {result.first_position}-"
                          f"{result.last_position}, last hash {result.last_hash or '-'}); none deleted")
