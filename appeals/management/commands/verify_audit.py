from django.core.management.base import BaseCommand, CommandError

from appeals.audit.services import audit_verify_chain


class Command(BaseCommand):
    help = "Re-hash the audit chain; print 'intact, N events' or the first broken link."

    def handle(self, *args, **options):
        report = audit_verify_chain()
        if not report.intact:
            raise CommandError(str(report))
        self.stdout.write(str(report))
