"""For benchmarks that measure something other than intake (lists, delivery): submit drafts
without the evidence files or the two proofs, by waiving those guards in this process only.
The test settings pin both guards on, so an environment switch no longer reaches them."""


def waive_intake_guards(*, verification: bool = True, evidence: bool = True) -> None:
    from django.conf import settings
    from django.test import override_settings

    changes = {}
    if verification:
        changes["VERIFICATION"] = {**settings.VERIFICATION, "REQUIRED": False}
        # Each submission still queues a code to its enterprise's legal representative.
        changes["NOTIFICATIONS"] = {**settings.NOTIFICATIONS, "SMS_DAILY_CAP_PER_PHONE": 1_000_000}
    if evidence:
        changes["EVIDENCE"] = {**settings.EVIDENCE, "ENFORCE_COMPLETENESS_ON_SUBMIT": False}
    override_settings(**changes).enable()
