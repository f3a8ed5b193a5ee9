"""Re-hash every stored evidence file and report any mismatch or missing file."""

from django.core.management.base import BaseCommand, CommandError

from appeals.audit.services import audit_record
from appeals.evidence.bundle import evidence_verify


class Command(BaseCommand):
    help = "Re-hash stored evidence originals against their recorded SHA-256; exit 1 on any problem."

    def add_arguments(self, parser):
        parser.add_argument("--appeal", help="only this appeal reference")

    def handle(self, *args, **options):
        checked = 0
        problems = []
        for _item, problem in evidence_verify(reference=options.get("appeal")):
            checked += 1
            if problem:
                problems.append(problem)
                self.stdout.write(str(problem))
        audit_record(actor=None, action="evidence.verify", target_type="appeals.evidenceitem", target_id="*",
                     after={"checked": checked, "problems": [str(p) for p in problems][:100]})
        if problems:
            raise CommandError(f"{len(problems)} of {checked} evidence files failed verification")
        self.stdout.write(self.style.SUCCESS(f"intact, {checked} files verified"))
