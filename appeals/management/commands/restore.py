"""manage.py restore SNAPSHOT: rebuild an empty database and storage, then verify both."""

from django.core.management.base import BaseCommand, CommandError

from appeals.records.backup import RestoreError, snapshot_restore
from appeals.records.destinations import DestinationError


class Command(BaseCommand):
    help = ("Restore a snapshot (a local folder or s3://bucket/prefix/snapshot-...) into the configured, empty database "
            "and evidence storage, then run verify_audit and verify_evidence and compare with the manifest.")

    def add_arguments(self, parser):
        parser.add_argument("snapshot")
        parser.add_argument("--force", action="store_true", help="drop whatever the database and storage hold first")
        parser.add_argument("--jobs", type=int, default=None, help="pg_restore --jobs (default BACKUP_RESTORE_JOBS)")

    def handle(self, *args, **options):
        try:
            result = snapshot_restore(options["snapshot"], force=options["force"], jobs=options["jobs"])
        except (RestoreError, DestinationError) as exc:
            raise CommandError(str(exc))
        self.stdout.write(f"database {result.database}: restored; {result.files} files copied")
        self.stdout.write(f"verify_audit: {result.audit}")
        self.stdout.write(f"verify_evidence: {result.evidence}")
        if result.problems:
            for problem in result.problems:
                self.stdout.write(problem)
            raise CommandError(f"restore of {result.snapshot} failed verification: {len(result.problems)} problem(s)")
        self.stdout.write(self.style.SUCCESS(f"restored and verified in {result.seconds:.1f} s"))
