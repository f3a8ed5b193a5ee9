"""Manager reports API, mounted under /api/v1/: the SLA report as JSON, and each table as CSV."""

from django.http import HttpResponse
from django.urls import path
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from appeals.core import selectors as core_selectors
from appeals.core.models import IncidentKind, Platform, Severity
from appeals.shared.exceptions import ValidationFailed
from appeals.shared.replica import tolerates_lag
from appeals.sla import recovery
from appeals.sla.clock import clock_of, duration_text
from appeals.sla.models import AppealSla
from appeals.sla.reports import DASHBOARD_TABLES, TABLES, dashboard_series, parse_filters, report_csv, sla_report_for_view
from appeals.sla.services import sla_report_accessed

FILTER_PARAMETERS = [
    OpenApiParameter("start", OpenApiTypes.DATE, description="First day of the period (Asia/Shanghai); default: 29 days before end."),
    OpenApiParameter("end", OpenApiTypes.DATE, description="Last day of the period, inclusive; default: today."),
    OpenApiParameter("enterprise", OpenApiTypes.INT),
    OpenApiParameter("platform", OpenApiTypes.STR, enum=Platform.values),
    OpenApiParameter("kind", OpenApiTypes.STR, enum=IncidentKind.values, description="Incident kind."),
    OpenApiParameter("severity", OpenApiTypes.STR, enum=Severity.values, description="SLA tier."),
    OpenApiParameter("reviewer", OpenApiTypes.INT, description="First or second reviewer (user id)."),
    OpenApiParameter("live", OpenApiTypes.BOOL, description="Compute now even if a precomputed all-tenant report answers."),
]


class SummaryOutput(serializers.Serializer):
    opened = serializers.IntegerField()
    closed = serializers.IntegerField()
    approved = serializers.IntegerField()
    rejected = serializers.IntegerField()
    withdrawn = serializers.IntegerField()
    automated = serializers.IntegerField()
    approval_rate_pct = serializers.FloatField(allow_null=True)
    breached_open = serializers.IntegerField()
    at_risk_open = serializers.IntegerField()
    paused_open = serializers.IntegerField()
    calendar_unconfirmed_open = serializers.IntegerField(
        allow_null=True, default=None, help_text="Open clocks whose due time rests on a year with no confirmed calendar."
    )
    first_review_p50_h = serializers.FloatField(allow_null=True)
    first_review_p90_h = serializers.FloatField(allow_null=True)
    decision_p50_h = serializers.FloatField(allow_null=True)
    decision_p90_h = serializers.FloatField(allow_null=True)


class ComplianceOutput(serializers.Serializer):
    tier = serializers.CharField()
    target = serializers.CharField()
    closed = serializers.IntegerField()
    met = serializers.IntegerField()
    breached = serializers.IntegerField()
    compliance_pct = serializers.FloatField(allow_null=True)


class CaseOutput(serializers.Serializer):
    reference = serializers.CharField()
    enterprise = serializers.CharField()
    severity = serializers.CharField()
    state = serializers.CharField()
    reviewer = serializers.CharField()
    due_at = serializers.DateTimeField()
    hours_left = serializers.FloatField()
    calendar_unconfirmed = serializers.BooleanField(
        default=False, help_text="The due time was counted Monday to Friday through a year with no confirmed calendar."
    )


class ReviewerOutput(serializers.Serializer):
    reviewer = serializers.CharField()
    first_done = serializers.IntegerField()
    second_done = serializers.IntegerField()
    throughput = serializers.IntegerField()
    first_open = serializers.IntegerField()
    second_open = serializers.IntegerField()
    open_load = serializers.IntegerField()


class WeekOutput(serializers.Serializer):
    week = serializers.DateField()
    opened = serializers.IntegerField()
    closed = serializers.IntegerField()


class OutcomeCountOutput(serializers.Serializer):
    code = serializers.CharField(help_text="Outcome code of the decision ('' for decisions made before codes existed).")
    outcome = serializers.CharField(help_text="approve or reject")
    label_en = serializers.CharField()
    label_zh = serializers.CharField()
    count = serializers.IntegerField(help_text="Decisions closed in the period with this code.")


class SlaReportOutput(serializers.Serializer):
    filters = serializers.DictField()
    generated_at = serializers.DateTimeField(help_text="When the figures were computed.")
    source = serializers.ChoiceField(choices=["live", "snapshot"], help_text="snapshot: precomputed by the beat task.")
    summary = SummaryOutput()
    compliance = ComplianceOutput(many=True)
    breached = CaseOutput(many=True)
    at_risk = CaseOutput(many=True)
    reviewers = ReviewerOutput(many=True)
    trend = WeekOutput(many=True)
    surges = serializers.ListField(child=serializers.DictField(), allow_null=True,
                                   help_text="Surge alerts opened in the period (all tenants); null when no capability keeps alerts.")
    outcomes = OutcomeCountOutput(many=True, required=False, default=list,
                                  help_text="Decisions closed in the period per outcome code, most used first.")


class SlaReportApi(APIView):
    @extend_schema(operation_id="reports_sla", parameters=FILTER_PARAMETERS, responses=SlaReportOutput, tags=["reports"])
    @tolerates_lag  # a report: may read the replica
    def get(self, request):
        report = view_report(request, request.query_params)
        sla_report_accessed(by=request.user, report=report)
        return Response(SlaReportOutput(report).data)


class SlaReportCsvApi(APIView):
    @extend_schema(
        operation_id="reports_sla_csv",
        parameters=[OpenApiParameter("table", OpenApiTypes.STR, OpenApiParameter.PATH, enum=[*TABLES, *DASHBOARD_TABLES]), *FILTER_PARAMETERS],
        responses={(200, "text/csv"): OpenApiResponse(OpenApiTypes.BINARY, description="UTF-8 CSV with BOM")},
        tags=["reports"],
    )
    @tolerates_lag  # an export: may read the replica
    def get(self, request, table: str):
        report = view_report(request, request.query_params)
        if table in DASHBOARD_TABLES:  # the dashboard's weekly series and backlog, computed live
            report = {**report, **dashboard_series(user=request.user, filters=parse_filters(request.query_params))}
        return csv_response(report, table, by=request.user)


class ClockOutput(serializers.Serializer):
    status = serializers.ChoiceField(choices=["none", "running", "warning", "breached", "paused", "closed"])
    unit = serializers.CharField(help_text="hours or working_days; empty when no clock runs.")
    due_at = serializers.DateTimeField(
        allow_null=True, help_text="When the case is due; while paused, when it would be due if it resumed now."
    )
    remaining_seconds = serializers.FloatField(allow_null=True, help_text="Wall-clock seconds to due_at (negative: overdue).")
    remaining = serializers.CharField(allow_null=True, help_text="remaining_seconds for people, e.g. \"8d 23h\".")
    met = serializers.BooleanField(allow_null=True, help_text="Closed cases: decided within the service level.")
    provisional = serializers.BooleanField(
        help_text="The due time runs through a year whose holiday calendar is not confirmed (computed on weekdays)."
    )


class AppealClockApi(APIView):
    """The SLA clock of one case, the same one its page and the reports show."""

    @extend_schema(operation_id="appeals_sla", responses={200: ClockOutput, 404: OpenApiResponse(description="No such case for you.")},
                   tags=["appeals"])
    def get(self, request, reference: str):
        appeal = core_selectors.appeal_get(user=request.user, reference=reference)
        clock = clock_of(AppealSla.objects.filter(appeal_id=appeal.pk).first())
        return Response(ClockOutput({
            "status": clock.status, "unit": clock.unit, "due_at": clock.due_at,
            "remaining_seconds": clock.remaining_seconds,
            "remaining": None if clock.remaining_seconds is None else duration_text(clock.remaining_seconds),
            "met": clock.met, "provisional": clock.provisional,
        }).data)


def view_report(request, params) -> dict:
    live_text = (params.get("live") or "").lower()
    if live_text not in ("", "1", "0", "true", "false", "yes", "no"):
        raise ValidationFailed(fields={"live": [_("Enter true or false.")]})
    live = live_text in ("1", "true", "yes")
    return sla_report_for_view(user=request.user, filters=parse_filters(params), live=live)


def csv_response(report: dict, table: str, *, by) -> HttpResponse:
    body = report_csv(report, table)  # refuses an unknown table with a field error
    sla_report_accessed(by=by, report=report, table=table)
    f = report["filters"]
    response = HttpResponse(body.encode("utf-8"), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="sla-{table}-{f["start"]}-{f["end"]}.csv"'
    return response


class RecoveryTotalOutput(serializers.Serializer):
    count = serializers.IntegerField(help_text="Accounts restored (approved appeals decided in the period).")
    median_h = serializers.FloatField(allow_null=True, help_text="Median hours from the ban to the restoring decision.")
    p90_h = serializers.FloatField(allow_null=True, help_text="90th percentile, hours.")


class RecoveryMonthOutput(RecoveryTotalOutput):
    month = serializers.CharField(help_text="YYYY-MM of the restoring decision (Asia/Shanghai).")


class RecoveryKindOutput(RecoveryTotalOutput):
    kind = serializers.ChoiceField(choices=IncidentKind.choices)


class RecoveryRowOutput(RecoveryMonthOutput):
    enterprise_id = serializers.IntegerField()
    enterprise = serializers.CharField()
    kind = serializers.ChoiceField(choices=IncidentKind.choices)


class TimeToRecoveryOutput(serializers.Serializer):
    filters = serializers.DictField()
    generated_at = serializers.DateTimeField()
    overall = RecoveryTotalOutput()
    by_month = RecoveryMonthOutput(many=True)
    by_kind = RecoveryKindOutput(many=True)
    rows = RecoveryRowOutput(many=True, help_text="Per month, enterprise and incident kind.")


RECOVERY_PARAMETERS = [
    OpenApiParameter("start", OpenApiTypes.DATE, description="First day (Asia/Shanghai); default: the first day of the month 11 months before end."),
    *FILTER_PARAMETERS[1:6],
]
RECOVERY_DESCRIPTION = (
    "Time from the ban (incident.banned_at) to the decision that restores the account (decided_at of the approved appeal), "
    "for restoring decisions in the period. Managers see every enterprise (filter with `enterprise`); an enterprise admin "
    "sees only their own enterprise (the `enterprise` filter is ignored); others get 403 permission_denied. "
    "Bad filters: 400 with field errors (start, end, enterprise, kind, platform, severity)."
)


class TimeToRecoveryApi(APIView):
    @extend_schema(operation_id="reports_time_to_recovery", parameters=RECOVERY_PARAMETERS, responses=TimeToRecoveryOutput,
                   description=RECOVERY_DESCRIPTION, tags=["reports"])
    def get(self, request):
        filters = recovery.recovery_filters(user=request.user, params=request.query_params)
        return Response(TimeToRecoveryOutput(recovery.time_to_recovery(user=request.user, filters=filters)).data)


class TimeToRecoveryCsvApi(APIView):
    @extend_schema(operation_id="reports_time_to_recovery_csv", parameters=RECOVERY_PARAMETERS, description=RECOVERY_DESCRIPTION,
                   responses={(200, "text/csv"): OpenApiResponse(OpenApiTypes.BINARY, description="UTF-8 CSV with BOM")},
                   tags=["reports"])
    def get(self, request):
        filters = recovery.recovery_filters(user=request.user, params=request.query_params)
        return recovery_csv_response(recovery.time_to_recovery(user=request.user, filters=filters))


def recovery_csv_response(report: dict) -> HttpResponse:
    f = report["filters"]
    response = HttpResponse(recovery.time_to_recovery_csv(report).encode("utf-8"), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="time-to-recovery-{f["start"]}-{f["end"]}.csv"'
    return response


urlpatterns = [
    path("reports/time-to-recovery/", TimeToRecoveryApi.as_view(), name="api-time-to-recovery"),
    path("reports/time-to-recovery.csv", TimeToRecoveryCsvApi.as_view(), name="api-time-to-recovery-csv"),
    path("appeals/<str:reference>/sla/", AppealClockApi.as_view(), name="api-appeal-sla"),
    path("reports/sla/", SlaReportApi.as_view(), name="api-sla-report"),
    path("reports/sla/<str:table>.csv", SlaReportCsvApi.as_view(), name="api-sla-report-csv"),
]
