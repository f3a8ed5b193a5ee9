"""The evidence library: files attached to an appeal, and what analysis found in them."""

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class EvidenceGroup(models.TextChoices):
    """The fixed folder layout of DOMAIN.md "The evidence library"."""

    ACCOUNT_INFO = "account_info", _("Account information")
    SYSTEM_ALERT = "system_alert", _("System alert")
    OPERATION_LOGS = "operation_logs", _("Operation logs")
    OTHER = "other", _("Other")


class FileType(models.TextChoices):
    """Types recognised from the file's bytes (never from its name)."""

    JPEG = "jpeg", "JPEG"
    PNG = "png", "PNG"
    WEBP = "webp", "WebP"
    PDF = "pdf", "PDF"
    CSV = "csv", "CSV"
    CSV_GZIP = "csv_gzip", _("CSV (gzip)")
    # Operation records from the platform (appeals.platform): its API's JSON pages, or the
    # console's spreadsheet export. Stored as the original; the analysis reads the derived CSV.
    JSON = "json", "JSON"
    XLSX = "xlsx", "XLSX"


FILE_TYPE_EXTENSION = {"jpeg": "jpg", "png": "png", "webp": "webp", "pdf": "pdf", "csv": "csv", "csv_gzip": "csv.gz", "json": "json",
                       "xlsx": "xlsx"}
FILE_TYPE_MIME = {
    "jpeg": "image/jpeg",
    "png": "image/png",
    "webp": "image/webp",
    "pdf": "application/pdf",
    "csv": "text/csv",
    "csv_gzip": "application/gzip",
    "json": "application/json",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
IMAGE_TYPES = ("jpeg", "png", "webp")
_PHOTO = (FileType.JPEG, FileType.PNG, FileType.WEBP)


class EvidenceKind(models.TextChoices):
    BUSINESS_LICENSE = "business_license", _("Business license (sealed)")
    ADMIN_ID_FRONT = "admin_id_front", _("Administrator ID card, front")
    ADMIN_ID_BACK = "admin_id_back", _("Administrator ID card, back")
    AUTHORIZATION_LETTER = "authorization_letter", _("Authorisation letter (sealed)")
    BAN_NOTICE = "ban_notice", _("Ban notice screenshot")
    OPERATION_LOG = "operation_log", _("Operation log, last 7 days (CSV)")
    OTHER = "other", _("Other")


# kind -> (group folder, file types accepted for it). Scans of sealed paper may be PDF or a photo.
KIND_RULES: dict[str, tuple[str, tuple[str, ...]]] = {
    EvidenceKind.BUSINESS_LICENSE: (EvidenceGroup.ACCOUNT_INFO, (FileType.PDF, *_PHOTO)),
    EvidenceKind.ADMIN_ID_FRONT: (EvidenceGroup.ACCOUNT_INFO, _PHOTO),
    EvidenceKind.ADMIN_ID_BACK: (EvidenceGroup.ACCOUNT_INFO, _PHOTO),
    EvidenceKind.AUTHORIZATION_LETTER: (EvidenceGroup.ACCOUNT_INFO, (FileType.PDF, *_PHOTO)),
    EvidenceKind.BAN_NOTICE: (EvidenceGroup.SYSTEM_ALERT, _PHOTO),
    EvidenceKind.OPERATION_LOG: (EvidenceGroup.OPERATION_LOGS, (FileType.CSV, FileType.CSV_GZIP)),
    EvidenceKind.OTHER: (EvidenceGroup.OTHER, (FileType.PDF, *_PHOTO)),
}


class DerivedStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    READY = "ready", _("Ready")
    FAILED = "failed", _("Failed")
    NONE = "none", _("Not applicable")


class EvidenceItem(models.Model):
    """One uploaded file. The original is stored unchanged; never deleted after submission."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    appeal = models.ForeignKey("appeals.Appeal", on_delete=models.PROTECT, related_name="evidence")
    # Copied from the appeal so tenancy filters need no join.
    enterprise = models.ForeignKey("appeals.Enterprise", on_delete=models.PROTECT, related_name="+")
    group = models.CharField(_("group"), max_length=20, choices=EvidenceGroup.choices)
    kind = models.CharField(_("kind"), max_length=30, choices=EvidenceKind.choices)
    # The user's file name, kept as text only: it never reaches a path or a header.
    original_name = models.CharField(_("original file name"), max_length=255, blank=True)
    file_type = models.CharField(_("detected type"), max_length=10, choices=FileType.choices)
    size = models.BigIntegerField(_("size"))
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    storage_name = models.CharField(max_length=300, unique=True, editable=False)
    width = models.PositiveIntegerField(null=True, blank=True)
    height = models.PositiveIntegerField(null=True, blank=True)
    derived_status = models.CharField(max_length=10, choices=DerivedStatus.choices, default=DerivedStatus.NONE)
    # Times the sweep re-queued the display copies; it gives up at EVIDENCE["SWEEP_MAX_REQUEUES"].
    derive_requeues = models.PositiveSmallIntegerField(default=0, db_default=0)
    thumbnail_name = models.CharField(max_length=300, blank=True, editable=False)
    preview_name = models.CharField(max_length=300, blank=True, editable=False)
    # PDF: where its /URI links lead (appeals.evidence.pdf); shown to the reviewer as a warning.
    link_targets = models.JSONField(default=list, blank=True, db_default=models.Value([], output_field=models.JSONField()))
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField(_("uploaded"), auto_now_add=True)
    # Set when the retention rule deleted the stored file (ID-card images of a closed case past
    # PERSONAL_DATA_RETENTION_DAYS); the row and its SHA-256 stay as the record of what was held.
    erased_at = models.DateTimeField(_("erased"), null=True, blank=True)

    class Meta:
        ordering = ["uploaded_at", "id"]
        verbose_name = _("evidence item")
        verbose_name_plural = _("evidence items")
        indexes = [models.Index(fields=["appeal", "kind"], name="evidence_appeal_kind")]
        constraints = [
            models.CheckConstraint(condition=models.Q(size__gt=0), name="evidence_not_empty"),
            models.CheckConstraint(condition=models.Q(sha256__regex=r"^[0-9a-f]{64}$"), name="evidence_sha256_hex"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} · {self.sha256[:12]}"

    @property
    def is_image(self) -> bool:
        return self.file_type in IMAGE_TYPES

    @property
    def extension(self) -> str:
        return FILE_TYPE_EXTENSION[self.file_type]

    @property
    def mime_type(self) -> str:
        return FILE_TYPE_MIME[self.file_type]


class AnalysisStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")


class LogAnalysis(models.Model):
    """The result of reading one uploaded operation log against the risk rules."""

    evidence = models.OneToOneField(EvidenceItem, on_delete=models.PROTECT, related_name="analysis")
    status = models.CharField(max_length=10, choices=AnalysisStatus.choices, default=AnalysisStatus.PENDING)
    encoding = models.CharField(max_length=20, blank=True)
    rows_total = models.PositiveIntegerField(default=0)
    rows_malformed = models.PositiveIntegerField(default=0)
    # [{"line": n, "reason": "..."}], the first EVIDENCE_LOG_RULES["MAX_MALFORMED_LINES"] of them
    malformed_lines = models.JSONField(default=list, blank=True)
    error = models.TextField(blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # Times the sweep re-queued this analysis; it gives up at EVIDENCE["SWEEP_MAX_REQUEUES"].
    requeues = models.PositiveSmallIntegerField(default=0, db_default=0)
    # The anomaly detection's summary (appeals.evidence.anomaly): method, accounts, account-hours
    # scored, hours flagged, seconds, error; null until it ran (or when it is switched off).
    anomaly = models.JSONField(null=True, blank=True)
    # Account health per account and day (appeals.evidence.health): {"outcomes_recorded", "thresholds",
    # "accounts": [{"operator", "days": [{"day", counters..., rates (None: not enough data)}]}]}
    health = models.JSONField(_("account health"), default=dict, blank=True,
                              db_default=models.Value({}, output_field=models.JSONField()))

    class Meta:
        verbose_name = _("log analysis")
        verbose_name_plural = _("log analyses")

    def __str__(self) -> str:
        return f"{self.evidence_id}: {self.status}"


class RiskRule(models.TextChoices):
    MASS_ADD = "mass_add", _("Mass adding of friends")
    SENSITIVE_WORDS = "sensitive_words", _("Sensitive words")
    LOCATION_ANOMALY = "location_anomaly", _("New device with an unfamiliar IP")
    PERMISSION = "permission", _("Action not allowed for the account type")
    # An incident marker rather than a behaviour: the platform itself banned or locked (WeCom
    # records 9, 20, 21, converted by appeals.platform).
    PLATFORM_BAN = "platform_ban", _("Ban or lock by the platform")
    # Account health (appeals.evidence.health); names fit the column's 20 characters.
    HEALTH_ACCEPT_LOW = "health_accept_low", _("Friend request acceptance rate too low")
    HEALTH_REPLY_LOW = "health_reply_low", _("Reply rate too low")
    HEALTH_DELBLOCK_HIGH = "health_delblock_high", _("Delete/block rate too high")
    HEALTH_COMPLAINTS = "health_complaints", _("Complaints too high")
    HEALTH_ACTIVE_SPIKE = "health_active_spike", _("Daily activity spike")


class RiskFlag(models.Model):
    """A risk signal found in an operation log, pointing at the lines behind it."""

    appeal = models.ForeignKey("appeals.Appeal", on_delete=models.PROTECT, related_name="risk_flags")
    evidence = models.ForeignKey(EvidenceItem, on_delete=models.PROTECT, related_name="risk_flags")
    rule = models.CharField(_("rule"), max_length=20, choices=RiskRule.choices)
    operator = models.CharField(_("operator account"), max_length=100)
    window_start = models.DateTimeField(null=True, blank=True)
    window_end = models.DateTimeField(null=True, blank=True)
    count = models.PositiveIntegerField(_("count"))
    line_numbers = models.JSONField(default=list)
    detail = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["appeal", "rule", "window_start", "id"]
        verbose_name = _("risk flag")
        verbose_name_plural = _("risk flags")
        indexes = [models.Index(fields=["appeal", "rule"], name="riskflag_appeal_rule")]

    def __str__(self) -> str:
        return f"{self.get_rule_display()} · {self.operator} ×{self.count}"


class AnomalyKind(models.TextChoices):
    """What a flagged hour most looks like, read from its strongest driver (appeals.evidence.anomaly)."""

    MASS_ADD = "mass_add", _("Burst of friend adds")
    SENSITIVE_WORDS = "sensitive_words", _("Burst of sensitive words")
    LOCATION = "location", _("Unfamiliar device or IP")
    OFF_HOURS_EXPORT = "off_hours_export", _("Data export off-hours")
    BULK_EXPORT = "bulk_export", _("Bulk data export")
    API_BURST = "api_burst", _("Burst of API calls")
    MESSAGE_BURST = "message_burst", _("Burst of messages")
    OFF_HOURS_ACTIVITY = "off_hours_activity", _("Unusual off-hours activity")
    UNUSUAL_ACTIVITY = "unusual_activity", _("Unusual activity")


class AnomalyHour(models.Model):
    """One hour of one account's activity in an operation log that stood out from the account's
    own and its peers' baseline in that log: its score, the features that drove it, its lines."""

    appeal = models.ForeignKey("appeals.Appeal", on_delete=models.PROTECT, related_name="anomaly_hours")
    # Copied from the appeal so tenancy filters need no join.
    enterprise = models.ForeignKey("appeals.Enterprise", on_delete=models.PROTECT, related_name="+")
    evidence = models.ForeignKey(EvidenceItem, on_delete=models.PROTECT, related_name="anomaly_hours")
    operator = models.CharField(_("operator account"), max_length=100)
    account_type = models.CharField(_("account type"), max_length=20)
    hour = models.DateTimeField(_("hour"))
    score = models.FloatField(_("score"))
    kind = models.CharField(_("kind"), max_length=20, choices=AnomalyKind.choices)
    # [{"feature", "value", "usual", "peers", "z"}], strongest first
    drivers = models.JSONField(default=list)
    # the driving rows first, at most EVIDENCE_ANOMALY["MAX_LINES_PER_HOUR"]; line_count counts them all
    line_numbers = models.JSONField(default=list)
    line_count = models.PositiveIntegerField(default=0)
    method = models.CharField(max_length=20)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["appeal", "-score", "hour", "id"]
        verbose_name = _("anomalous hour")
        verbose_name_plural = _("anomalous hours")
        indexes = [models.Index(fields=["appeal", "hour"], name="anomalyhour_appeal_hour")]
        constraints = [models.CheckConstraint(condition=models.Q(score__gte=0), name="anomalyhour_score_not_negative")]

    def __str__(self) -> str:
        return f"{self.operator} {self.hour:%Y-%m-%d %H}:00 · {self.score:.1f}"
