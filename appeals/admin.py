"""Django admin for every model. Domain objects are read-only here: writes go through services."""

from collections import defaultdict

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from appeals import models
from appeals.audit.services import audit_object
from appeals.shared.masking import mask_id_numbers
from appeals.sla.calendar import work_calendar_set_day
from appeals.sla.services import sla_policy_update

_AUDITED_USER_FIELDS = ("username", "email", "is_active", "is_staff", "is_superuser", "enterprise_id",
                        "is_first_reviewer", "is_second_reviewer", "is_manager")


@admin.register(models.User)
class DeskUserAdmin(UserAdmin):
    list_display = ("username", "email", "enterprise", "is_first_reviewer", "is_second_reviewer", "is_manager", "is_superuser")
    list_filter = ("is_first_reviewer", "is_second_reviewer", "is_manager", "is_superuser", "enterprise")
    fieldsets = (*UserAdmin.fieldsets, ("Desk", {"fields": ("enterprise", "phone", "is_first_reviewer", "is_second_reviewer", "is_manager")}))

    def save_model(self, request, obj, form, change):
        """Role and access changes made here are audited like every other administrative action."""
        before = {}
        if change:
            old = models.User.objects.get(pk=obj.pk)
            before = {f: getattr(old, f) for f in _AUDITED_USER_FIELDS}
        super().save_model(request, obj, form, change)
        after = {f: getattr(obj, f) for f in _AUDITED_USER_FIELDS}
        audit_object(actor=request.user, action="user.update" if change else "user.create", obj=obj, before=before, after=after)


class ReadOnlyAdmin(admin.ModelAdmin):
    """Browse and search; changes go through the app so that they are validated and audited."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(models.Enterprise)
class EnterpriseAdmin(ReadOnlyAdmin):
    list_display = ("name", "credit_code", "legal_rep_name", "admin_email", "created_at")
    search_fields = ("name", "credit_code")


@admin.register(models.MessagingAccount)
class MessagingAccountAdmin(ReadOnlyAdmin):
    list_display = ("display_name", "platform", "account_id", "account_type", "enterprise")
    list_filter = ("platform", "account_type")
    search_fields = ("display_name", "account_id")


@admin.register(models.BanIncident)
class BanIncidentAdmin(ReadOnlyAdmin):
    list_display = ("id", "account", "kind", "severity", "banned_at", "enterprise")
    list_filter = ("kind", "severity", "reason")


class AppealEventInline(admin.TabularInline):
    model = models.AppealEvent
    extra = 0
    can_delete = False
    readonly_fields = ("created_at", "actor", "action", "from_state", "to_state", "comment")
    fields = readonly_fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(models.Appeal)
class AppealAdmin(ReadOnlyAdmin):
    list_display = ("reference", "enterprise", "state", "first_reviewer", "second_reviewer", "submitted_at", "decided_at")
    list_filter = ("state", "enterprise")
    search_fields = ("reference",)
    inlines = [AppealEventInline]


@admin.register(models.AppealEvent)
class AppealEventAdmin(ReadOnlyAdmin):
    list_display = ("appeal", "action", "from_state", "to_state", "actor", "created_at")
    list_filter = ("action",)


@admin.register(models.AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    list_display = ("position", "created_at", "actor_username", "action", "target_type", "target_id", "ip")
    list_filter = ("action", "target_type")
    search_fields = ("target_id", "actor_username")


@admin.register(models.ReferenceSequence)
class ReferenceSequenceAdmin(ReadOnlyAdmin):
    list_display = ("year", "last")


@admin.register(models.VerificationChallenge)
class VerificationChallengeAdmin(ReadOnlyAdmin):
    list_display = ("appeal", "channel", "state", "attempts", "created_at", "expires_at", "verified_at")
    list_filter = ("channel", "state")
    search_fields = ("appeal__reference",)
    exclude = ("secret_hash",)


@admin.register(models.Message)
class MessageAdmin(ReadOnlyAdmin):
    list_display = ("idempotency_key", "channel", "template", "topic", "topic_id", "state", "attempts", "created_at", "sent_at")
    list_filter = ("channel", "state", "template", "topic")
    search_fields = ("idempotency_key", "appeal__reference", "recipient")

# --- evidence library (read-only; files are reached through the audited download view) ---


@admin.register(models.EvidenceItem)
class EvidenceItemAdmin(ReadOnlyAdmin):
    list_display = ("appeal", "kind", "file_type", "size", "short_hash", "masked_name", "uploaded_by", "uploaded_at")
    list_filter = ("kind", "file_type", "derived_status")
    search_fields = ("appeal__reference", "sha256")
    exclude = ("original_name",)

    @admin.display(description="SHA-256")
    def short_hash(self, obj):
        return obj.sha256[:16]

    @admin.display(description="original file name")
    def masked_name(self, obj):
        return mask_id_numbers(obj.original_name)


@admin.register(models.LogAnalysis)
class LogAnalysisAdmin(ReadOnlyAdmin):
    list_display = ("evidence", "status", "encoding", "rows_total", "rows_malformed", "finished_at")
    list_filter = ("status",)


@admin.register(models.RiskFlag)
class RiskFlagAdmin(ReadOnlyAdmin):
    list_display = ("appeal", "rule", "operator", "count", "window_start", "window_end")
    list_filter = ("rule",)
    search_fields = ("appeal__reference", "operator")


@admin.register(models.AnomalyHour)
class AnomalyHourAdmin(ReadOnlyAdmin):
    list_display = ("appeal", "operator", "hour", "kind", "score", "line_count", "method")
    list_filter = ("kind", "method")
    search_fields = ("appeal__reference", "operator")

# --- SLA: managers edit policies and calendar days; saves go through the services. ---


@admin.register(models.SlaPolicy)
class SlaPolicyAdmin(admin.ModelAdmin):
    list_display = ("severity", "amount", "unit", "handling", "updated_at")
    fields = ("severity", "unit", "amount", "handling")
    readonly_fields = ("severity", "handling")

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return request.user.has_role(models.Role.MANAGER)

    def has_view_permission(self, request, obj=None):
        return request.user.is_staff

    def save_model(self, request, obj, form, change):
        # The admin already holds a transaction around save_model: join it.
        sla_policy_update.nested(by=request.user, severity=obj.severity, unit=obj.unit, amount=obj.amount)


@admin.register(models.OutcomeCode)
class OutcomeCodeAdmin(admin.ModelAdmin):
    """Managers edit the catalogue's texts and retire codes; saving goes through the audited service."""

    list_display = ("code", "outcome", "label_en", "label_zh", "active", "position")
    list_filter = ("outcome", "active")
    fields = ("code", "outcome", "label_en", "label_zh", "reason_en", "reason_zh", "next_steps_en", "next_steps_zh",
              "active", "position")

    def get_readonly_fields(self, request, obj=None):
        return ("code", "outcome") if obj is not None else ()

    def has_delete_permission(self, request, obj=None):
        return False  # retire a code (active off): decisions keep naming it

    def has_add_permission(self, request):
        return request.user.has_role(models.Role.MANAGER)

    def has_change_permission(self, request, obj=None):
        return request.user.has_role(models.Role.MANAGER)

    def has_view_permission(self, request, obj=None):
        return request.user.is_staff

    def save_model(self, request, obj, form, change):
        from appeals.core.services.outcome_codes import TEXT_FIELDS, outcome_code_save

        saved = outcome_code_save.nested(by=request.user, code=obj.code, outcome=obj.outcome,
                                         **{f: getattr(obj, f) for f in TEXT_FIELDS})
        obj.pk = saved.pk


@admin.register(models.WorkCalendarDay)
class WorkCalendarDayAdmin(admin.ModelAdmin):
    list_display = ("date", "is_working", "note", "source", "updated_at")
    list_filter = ("is_working", "source")
    date_hierarchy = "date"
    fields = ("date", "is_working", "note")

    def has_add_permission(self, request):
        return request.user.has_role(models.Role.MANAGER)

    def has_change_permission(self, request, obj=None):
        return request.user.has_role(models.Role.MANAGER)

    def has_delete_permission(self, request, obj=None):
        return False  # correct a day instead: the audit keeps what it was

    def has_view_permission(self, request, obj=None):
        return request.user.is_staff

    def get_readonly_fields(self, request, obj=None):
        return ("date",) if obj else ()

    def save_model(self, request, obj, form, change):
        saved = work_calendar_set_day.nested(by=request.user, day=obj.date, is_working=obj.is_working, note=obj.note)
        obj.pk = saved.pk


@admin.register(models.AppealSla)
class AppealSlaAdmin(ReadOnlyAdmin):
    list_display = ("appeal", "severity", "started_at", "due_at", "paused_at", "closed_at", "met", "auto_rule")
    list_filter = ("severity", "met")


@admin.register(models.SlaNotification)
class SlaNotificationAdmin(ReadOnlyAdmin):
    """The decision to notify; each recipient's message (and its delivery state) is an outbox row."""

    list_display = ("appeal", "stage", "kind", "created_at", "delivery")
    list_filter = ("kind",)

    def get_changelist_instance(self, request):
        # Each shown notice's message states in one query for the page, not one per row.
        changelist = super().get_changelist_instance(request)
        notices = list(changelist.result_list)
        states = defaultdict(list)
        for topic_id, state in models.Message.objects.filter(
            topic=models.SlaNotification.TOPIC, topic_id__in=[n.pk for n in notices]
        ).values_list("topic_id", "state"):
            states[topic_id].append(state)
        for notice in notices:
            notice.delivery_states = ", ".join(sorted(states[notice.pk]))
        changelist.result_list = notices
        return changelist

    @admin.display(description="delivery (outbox)")
    def delivery(self, obj):
        return getattr(obj, "delivery_states", "") or "-"


@admin.register(models.SurgeAlert)
class SurgeAlertAdmin(ReadOnlyAdmin):
    list_display = ("opened_at", "dimension", "value", "count", "usual", "ratio", "state", "resolved_at", "resolution")
    list_filter = ("state", "dimension", "resolution")


@admin.register(models.SurgeSettings)
class SurgeSettingsAdmin(ReadOnlyAdmin):
    list_display = ("window_minutes", "floor", "factor", "history_days", "quiet_windows", "hotline", "updated_by", "updated_at")


@admin.register(models.RecordsRun)
class RecordsRunAdmin(ReadOnlyAdmin):
    """Backups and restore drills (appeals/records): outcome, snapshot, timings, error."""

    list_display = ("started_at", "kind", "ok", "finished_at", "snapshot")
    list_filter = ("kind", "ok")


# --- webhooks (read-only; endpoints are managed on /webhooks/ and the API, audited) ---


@admin.register(models.WebhookEndpoint)
class WebhookEndpointAdmin(ReadOnlyAdmin):
    # Never the secrets: the change view shows only these fields.
    fields = ("enterprise", "url", "description", "events", "active", "secret_rotated_at", "previous_secret_expires_at",
              "created_by", "created_at", "updated_at")
    readonly_fields = fields
    list_display = ("url", "enterprise", "active", "secret_rotated_at", "created_at")
    list_filter = ("active",)
    search_fields = ("url", "enterprise__name")


@admin.register(models.WebhookDelivery)
class WebhookDeliveryAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "endpoint", "event", "attempt", "outcome", "status_code", "latency_ms", "manual")
    list_filter = ("outcome", "manual")
    search_fields = ("event__webhook_id", "endpoint__url")
