"""Re-encrypt every secret at rest under the current key (the first of FIELD_ENCRYPTION_KEYS).

Rotation: put the new key first in FIELD_ENCRYPTION_KEYS (keep the old one after it), restart,
run `manage.py rotate_secrets`, then drop the old key. Idempotent: values already under the
current key are left alone. One audit event records what was re-encrypted (never a value).
"""

from django.core.management.base import BaseCommand
from django.db import transaction
from django.db.models import TextField
from django.db.models.functions import Cast

from appeals.audit.services import audit_record
from appeals.shared import secrets


class Command(BaseCommand):
    help = "Re-encrypt stored secrets (WeCom, webhook, SMS provider) under the current FIELD_ENCRYPTION_KEYS key."

    def handle(self, *args, **options):
        counts = {}
        for model, name in secrets.encrypted_fields():
            label = f"{model._meta.label}.{name}"
            counts[label] = 0
            table = model._base_manager.exclude(**{name: ""}).exclude(**{f"{name}__isnull": True})
            for pk in table.values_list("pk", flat=True).iterator():
                with transaction.atomic():
                    # the stored token, read as plain text (a Cast skips the field's decryption)
                    token = (model._base_manager.select_for_update().filter(pk=pk)
                             .annotate(raw=Cast(name, TextField())).values_list("raw", flat=True).first())
                    if not token or secrets.is_current(token):
                        continue
                    model._base_manager.filter(pk=pk).update(**{name: secrets.decrypt(token)})
                    counts[label] += 1
        audit_record(actor=None, action="secrets.rotated", target_type="secrets", target_id="all", after=counts)
        total = sum(counts.values())
        self.stdout.write(f"Re-encrypted {total} secret(s) under the current key: "
                          + (", ".join(f"{k} {v}" for k, v in counts.items()) or "no encrypted fields"))
