"""manage.py retention_sweep: what the daily beat task does, by hand."""

from django.core.management.base import BaseCommand

from appeals.records.retention import purge_sessions_and_tokens, retention_sweep


class Command(BaseCommand):
    help = "Erase/mask the personal data of closed cases past PERSONAL_DATA_RETENTION_DAYS; purge sessions and expired tokens."

    def handle(self, *args, **options):
        erased = retention_sweep()
        purged = purge_sessions_and_tokens()
        self.stdout.write(f"{erased} case(s) erased; {purged['tokens']} expired {purged['token_kind'] or 'API'} token(s) purged")
