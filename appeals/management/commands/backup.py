"""manage.py backup DEST [DEST ...]: one consistent snapshot to every destination."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from appeals.records.backup import BackupError, snapshot_create
from appeals.records.destinations import DestinationError


class Command(BaseCommand):
    help = ("Write one consistent snapshot (pg_dump custom format, every evidence object, a manifest with SHA-256s "
            "and the audit chain head) to each DEST: a local folder or s3://bucket/prefix. Default: BACKUP_DESTINATIONS.")

    def add_arguments(self, parser):
        parser.add_argument("destinations", nargs="*", metavar="DEST")

    def handle(self, *args, **options):
        destinations = options["destinations"] or settings.BACKUP["DESTINATIONS"]
        try:
            result = snapshot_create(destinations)
        except (BackupError, DestinationError) as exc:
            raise CommandError(str(exc))
        for url in result.written:
            self.stdout.write(f"written {url}")
        files = len(result.manifest["files"])
        if result.problems:
            for problem in result.problems:
                self.stdout.write(problem)
            raise CommandError(f"snapshot {result.name} written with {len(result.problems)} problem(s) of {files} files")
        self.stdout.write(self.style.SUCCESS(f"snapshot {result.name}: {files} files, {result.seconds:.1f} s"))
