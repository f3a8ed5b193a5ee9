"""Django admin for every model. Domain objects are read-only here: writes go through services."""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from appeals import models


@admin.register(models.User)
class DeskUserAdmin(UserAdmin):
    list_display = ("username", "email", "enterprise", "is_first_reviewer", "is_second_reviewer", "is_manager", "is_superuser")
    list_filter = ("is_first_reviewer", "is_second_reviewer", "is_manager", "is_superuser", "enterprise")
    fieldsets = (*UserAdmin.fieldsets, ("Desk", {"fields": ("enterprise", "phone", "is_first_reviewer", "is_second_reviewer", "is_manager")}))


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


@admin.register(models.SurgeAlert)
class SurgeAlertAdmin(ReadOnlyAdmin):
    list_display = ("opened_at", "dimension", "value", "count", "usual", "ratio", "state", "resolved_at", "resolution")
    list_filter = ("state", "dimension", "resolution")


@admin.register(models.SurgeNotification)
class SurgeNotificationAdmin(ReadOnlyAdmin):
    list_display = ("alert", "channel", "recipient", "status", "attempts", "sent_at")
    list_filter = ("channel", "status")


@admin.register(models.SurgeSettings)
class SurgeSettingsAdmin(ReadOnlyAdmin):
    list_display = ("window_minutes", "floor", "factor", "history_days", "quiet_windows", "hotline", "updated_by", "updated_at")
