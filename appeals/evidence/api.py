"""REST endpoints of the evidence library, mounted under /api/v1/.

Upload (multipart), list, metadata, delete (drafts only), download / preview / thumbnail,
checklist, risk flags, anomalous hours, account health from the operation logs and the case bundle. Thin views:
selectors read, services write.
"""

import logging
from datetime import timedelta

from django.conf import settings
from django.core.files.storage import FileSystemStorage
from django.http import FileResponse, HttpResponseRedirect
from django.urls import path
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.reverse import reverse
from rest_framework.views import APIView

from appeals.core.api.serializers import ErrorOutput
from appeals.core.selectors import appeal_get
from appeals.evidence import services as evidence_services
from appeals.evidence.anomaly import FEATURE_LABELS, FEATURES
from appeals.evidence.bundle import download_name, evidence_bundle
from appeals.evidence.files import reject
from appeals.evidence.models import FILE_TYPE_MIME, AnomalyHour, AnomalyKind, EvidenceItem, EvidenceKind, RiskFlag, RiskRule
from appeals.evidence.selectors import anomaly_hours, evidence_get, evidence_list, health_flags, log_health, risk_flags
from appeals.evidence.uploads import largest_upload
from appeals.shared.exceptions import NotFound
from appeals.shared.masking import mask_id_numbers

logger = logging.getLogger(__name__)


# --- serializers ---------------------------------------------------------------------------


class EvidenceUploadInput(serializers.Serializer):
    kind = serializers.ChoiceField(choices=EvidenceKind.choices)
    file = serializers.FileField(allow_empty_file=True, use_url=False)


class AnomalySummaryOutput(serializers.Serializer):
    method = serializers.CharField(help_text="robust_z | isolation_forest | both (settings.EVIDENCE_ANOMALY)")
    accounts = serializers.IntegerField()
    account_hours = serializers.IntegerField(help_text="Account-hours scored (hours in which an account acted).")
    rows = serializers.IntegerField()
    flagged = serializers.IntegerField(help_text="Hours flagged as anomalous (listed by appeal_anomalies).")
    seconds = serializers.FloatField()
    error = serializers.CharField(help_text="Why the detection could not run; empty when it did.")


class LogAnalysisOutput(serializers.Serializer):
    status = serializers.CharField()
    encoding = serializers.CharField()
    rows_total = serializers.IntegerField()
    rows_malformed = serializers.IntegerField()
    malformed_lines = serializers.ListField(child=serializers.DictField(), help_text="[{line, reason}], the first ones")
    error = serializers.CharField()
    anomaly = AnomalySummaryOutput(allow_null=True, help_text="The anomaly detection's summary; null until it ran.")


class EvidenceOutput(serializers.Serializer):
    uuid = serializers.UUIDField()
    kind = serializers.ChoiceField(choices=EvidenceKind.choices)
    kind_label = serializers.CharField(source="get_kind_display")
    group = serializers.CharField()
    original_name = serializers.SerializerMethodField(help_text="As uploaded, ID numbers masked.")
    file_type = serializers.CharField()
    size = serializers.IntegerField()
    sha256 = serializers.CharField()
    width = serializers.IntegerField(allow_null=True)
    height = serializers.IntegerField(allow_null=True)
    derived_status = serializers.CharField()
    uploaded_by = serializers.CharField(source="uploaded_by.username")
    uploaded_at = serializers.DateTimeField()
    links = serializers.SerializerMethodField()
    warnings = serializers.SerializerMethodField(
        help_text="Things the reviewer should know before opening the file; code `pdf_links`: where the PDF's links lead.")
    analysis = serializers.SerializerMethodField()

    def get_original_name(self, item) -> str:
        return mask_id_numbers(item.original_name)

    def get_links(self, item) -> dict[str, str]:
        request = self.context.get("request")
        kwargs = {"reference": item.appeal.reference, "uuid": item.uuid}
        links = {"self": reverse("api-evidence-detail", kwargs=kwargs, request=request),
                 "download": reverse("api-evidence-download", kwargs=kwargs, request=request)}
        if item.kind == EvidenceKind.OPERATION_LOG:
            links["health"] = reverse("api-evidence-health", kwargs={"reference": item.appeal.reference}, request=request) \
                + f"?evidence={item.uuid}"
        if item.thumbnail_name:
            links["thumbnail"] = reverse("api-evidence-thumbnail", kwargs=kwargs, request=request)
            links["preview"] = reverse("api-evidence-preview", kwargs=kwargs, request=request)
        elif item.preview_name:  # a converted operation log: the CSV the analysis read
            links["preview"] = reverse("api-evidence-preview", kwargs=kwargs, request=request)
        return links

    def get_warnings(self, item) -> list[dict]:
        if not item.link_targets:
            return []
        return [{"code": "pdf_links", "message": _("This PDF contains links to outside addresses; check them before opening."),
                 "targets": item.link_targets}]

    @extend_schema_field(LogAnalysisOutput(allow_null=True))
    def get_analysis(self, item) -> dict | None:
        analysis = getattr(item, "analysis", None) if item.kind == EvidenceKind.OPERATION_LOG else None
        return LogAnalysisOutput(analysis).data if analysis else None


class ChecklistEntryOutput(serializers.Serializer):
    kind = serializers.ChoiceField(choices=EvidenceKind.choices)
    label = serializers.CharField()
    required = serializers.BooleanField()
    count = serializers.IntegerField()
    satisfied = serializers.BooleanField()


class ChecklistOutput(serializers.Serializer):
    complete = serializers.BooleanField()
    entries = ChecklistEntryOutput(many=True)


class RiskFlagOutput(serializers.ModelSerializer):
    rule = serializers.ChoiceField(choices=RiskRule.choices)
    rule_label = serializers.CharField(source="get_rule_display")
    evidence = serializers.UUIDField(source="evidence.uuid")
    line_numbers = serializers.ListField(child=serializers.IntegerField())
    detail = serializers.DictField()

    class Meta:
        model = RiskFlag
        fields = ["rule", "rule_label", "operator", "window_start", "window_end", "count", "line_numbers", "detail", "evidence"]


class AnomalyDriverOutput(serializers.Serializer):
    feature = serializers.ChoiceField(choices=[(f, f) for f in FEATURES])
    label = serializers.SerializerMethodField()
    value = serializers.FloatField(help_text="This hour's value.")
    usual = serializers.FloatField(help_text="The account's median over its active hours (at this time of day when it has a habit there).")
    peers = serializers.FloatField(help_text="The median of accounts of the same type in this log.")
    z = serializers.FloatField(help_text="Robust z-score against the baselines (the smallest of them).")
    seen = serializers.ListField(child=serializers.CharField(), required=False,
                                 help_text="For the location features: the unfamiliar IPs and devices of that hour.")

    def get_label(self, driver) -> str:
        return str(FEATURE_LABELS.get(driver["feature"], driver["feature"]))


class AnomalyHourOutput(serializers.ModelSerializer):
    kind = serializers.ChoiceField(choices=AnomalyKind.choices)
    kind_label = serializers.CharField(source="get_kind_display")
    evidence = serializers.UUIDField(source="evidence.uuid")
    hour_end = serializers.SerializerMethodField()
    drivers = AnomalyDriverOutput(many=True)
    line_numbers = serializers.ListField(child=serializers.IntegerField(), help_text="The driving rows first, capped.")

    class Meta:
        model = AnomalyHour
        fields = ["operator", "account_type", "hour", "hour_end", "score", "kind", "kind_label", "drivers",
                  "line_numbers", "line_count", "method", "evidence"]

    def get_hour_end(self, row) -> str:
        return serializers.DateTimeField().to_representation(row.hour + timedelta(hours=1))


class AnomalyQueryInput(serializers.Serializer):
    operator = serializers.CharField(required=False, max_length=100, help_text="Only this account.")
    min_score = serializers.FloatField(required=False, min_value=0, max_value=1e6, help_text="Only hours scoring at least this.")
class HealthDayOutput(serializers.Serializer):
    day = serializers.DateField(help_text="Asia/Shanghai calendar day.")
    activity = serializers.IntegerField(help_text="Rows of the account that day (daily activity).")
    requests_sent = serializers.IntegerField(help_text="friend_request_sent and add_friend.")
    requests_accepted = serializers.IntegerField()
    messages_sent = serializers.IntegerField(help_text="message_sent, send_message and mass_message.")
    replies = serializers.IntegerField()
    deleted = serializers.IntegerField()
    blocked = serializers.IntegerField()
    complaints = serializers.IntegerField()
    acceptance_rate = serializers.FloatField(allow_null=True, help_text="accepted / sent; null: not enough data.")
    reply_rate = serializers.FloatField(allow_null=True, help_text="replies / messages sent; null: not enough data.")
    delete_block_rate = serializers.FloatField(
        allow_null=True, help_text="(deleted + blocked) / (messages + requests sent); null: not enough data.")
    complaint_rate = serializers.FloatField(
        allow_null=True, help_text="complaints / (messages + requests sent); null: not enough data.")
    activity_baseline = serializers.FloatField(
        allow_null=True, help_text="The account's median day over the log (null: too few days for a spike rule).")


class HealthAccountOutput(serializers.Serializer):
    operator = serializers.CharField(help_text="The account, ID numbers masked.")
    days = HealthDayOutput(many=True)


class LogHealthOutput(serializers.Serializer):
    evidence = serializers.UUIDField(source="evidence.uuid")
    status = serializers.CharField(help_text="The analysis: pending, running, done or failed (health only when done).")
    outcomes_recorded = serializers.SerializerMethodField(
        help_text="False: the log records no customer outcome (the first layout); the four rates are null.")
    thresholds = serializers.SerializerMethodField(help_text="HEALTH_THRESHOLDS as applied to this log.")
    accounts = serializers.SerializerMethodField()
    flags = serializers.SerializerMethodField(help_text="The health risk flags of this log (rules health_*).")

    def _accounts(self, analysis) -> list[dict]:
        operator = self.context.get("operator")
        accounts = analysis.health.get("accounts", [])
        return [a for a in accounts if a["operator"] == operator] if operator else accounts

    def get_outcomes_recorded(self, analysis) -> bool:
        return bool(analysis.health.get("outcomes_recorded"))

    def get_thresholds(self, analysis) -> dict[str, float]:
        return analysis.health.get("thresholds", {})

    @extend_schema_field(HealthAccountOutput(many=True))
    def get_accounts(self, analysis) -> list[dict]:
        return HealthAccountOutput(self._accounts(analysis), many=True).data

    @extend_schema_field(RiskFlagOutput(many=True))
    def get_flags(self, analysis) -> list[dict]:
        flags = [f for f in self.context["flags"] if f.evidence_id == analysis.evidence_id]
        operator = self.context.get("operator")
        if operator:
            flags = [f for f in flags if f.operator == operator]
        return RiskFlagOutput(flags, many=True).data


class LogHealthQuery(serializers.Serializer):
    evidence = serializers.UUIDField(required=False, help_text="One operation log of the case.")
    operator = serializers.CharField(required=False, max_length=100, help_text="One account, as the response names it.")


# --- views -------------------------------------------------------------------------------


class EvidenceListCreateView(APIView):
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(operation_id="appeal_evidence_list", responses=EvidenceOutput(many=True), tags=["evidence"])
    def get(self, request, reference):
        appeal = appeal_get(user=request.user, reference=reference)
        return Response(EvidenceOutput(evidence_list(appeal=appeal), many=True, context={"request": request}).data)

    @extend_schema(
        operation_id="appeal_evidence_upload",
        request={"multipart/form-data": EvidenceUploadInput},
        responses={201: EvidenceOutput, 400: OpenApiResponse(description="Refused file: {detail, code, fields.file}"),
                   409: OpenApiResponse(description="Evidence locked after submission")},
        tags=["evidence"],
    )
    def post(self, request, reference):
        appeal = appeal_get(user=request.user, reference=reference)
        payload = request.data  # parsing runs the upload handlers, which may refuse an oversize body unread
        if getattr(request._request, "upload_refused_size", None) is not None:
            raise reject("too_large", _("The upload is larger than any evidence file may be (%(mb)s MB).")
                         % {"mb": largest_upload() // (1024 * 1024)})
        data = EvidenceUploadInput(data=payload)
        data.is_valid(raise_exception=True)
        item = evidence_services.evidence_upload(
            appeal=appeal, by=request.user, kind=data.validated_data["kind"], file=data.validated_data["file"]
        )
        item = evidence_list(appeal=appeal).get(pk=item.pk)
        return Response(EvidenceOutput(item, context={"request": request}).data, status=status.HTTP_201_CREATED)


class EvidenceDetailView(APIView):
    @extend_schema(operation_id="appeal_evidence_detail", responses=EvidenceOutput, tags=["evidence"])
    def get(self, request, reference, uuid):
        item = evidence_get(user=request.user, reference=reference, uuid=uuid)
        return Response(EvidenceOutput(item, context={"request": request}).data)

    @extend_schema(operation_id="appeal_evidence_delete", responses={204: None}, tags=["evidence"])
    def delete(self, request, reference, uuid):
        item = evidence_get(user=request.user, reference=reference, uuid=uuid)
        evidence_services.evidence_delete(item=item, by=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


def _file_response(request, item: EvidenceItem, variant: str):
    if item.erased_at:  # the retention rule deleted it (appeals/records/retention.py)
        raise NotFound(_("This file was erased under the personal-data retention rule."), code="erased")
    name = {"original": item.storage_name, "preview": item.preview_name, "thumbnail": item.thumbnail_name}[variant]
    if not name:
        raise NotFound(code="not_ready")
    filename = download_name(item, variant)
    # The preview of a converted operation log (JSON, XLSX) is its derived CSV.
    mime = item.mime_type if variant == "original" else ("image/jpeg" if item.is_image else "text/csv")
    attachment = variant == "original"
    storage = evidence_services.evidence_storage()
    if not isinstance(storage, FileSystemStorage):
        # Object storage: a presigned link that expires within minutes, carrying the same headers.
        url = storage.url(
            name,
            parameters={"ResponseContentDisposition": content_disposition_header(attachment, filename),
                        "ResponseContentType": mime},
            expire=settings.EVIDENCE["PRESIGNED_URL_SECONDS"],
        )
        response = HttpResponseRedirect(url)
    else:
        try:
            fp = storage.open(name, "rb")
        except FileNotFoundError:
            logger.error("evidence file missing: item %s, %s", item.pk, name)
            raise NotFound(_("The stored file is missing; run verify_evidence."), code="file_missing") from None
        response = FileResponse(fp, as_attachment=attachment, filename=filename, content_type=mime)
    evidence_services.evidence_record_view(item=item, by=request.user, variant=variant)
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


class EvidenceFileView(APIView):
    variant = "original"

    def perform_content_negotiation(self, request, force=False):
        return super().perform_content_negotiation(request, force=True)

    def get(self, request, reference, uuid):
        item = evidence_get(user=request.user, reference=reference, uuid=uuid)
        return _file_response(request, item, self.variant)


def _file_schema(media_types):
    """The file as stored (binary) under each media type it can have, or a presigned redirect."""
    return extend_schema(
        responses={**{(200, media_type): OpenApiTypes.BINARY for media_type in media_types},
                   302: OpenApiResponse(description="Presigned object-storage URL (S3), valid for minutes")},
        tags=["evidence"],
    )


@_file_schema(sorted(set(FILE_TYPE_MIME.values())))
class EvidenceDownloadView(EvidenceFileView):
    variant = "original"


@_file_schema(["image/jpeg", "text/csv"])
class EvidencePreviewView(EvidenceFileView):
    variant = "preview"


@_file_schema(["image/jpeg"])
class EvidenceThumbnailView(EvidenceFileView):
    variant = "thumbnail"


class EvidenceChecklistView(APIView):
    @extend_schema(operation_id="appeal_evidence_checklist", responses=ChecklistOutput, tags=["evidence"])
    def get(self, request, reference):
        appeal = appeal_get(user=request.user, reference=reference)
        entries = evidence_services.evidence_checklist(appeal)
        return Response(ChecklistOutput({"complete": all(e.satisfied for e in entries), "entries": entries}).data)


class RiskFlagListView(APIView):
    @extend_schema(operation_id="appeal_risk_flags", responses=RiskFlagOutput(many=True), tags=["evidence"])
    def get(self, request, reference):
        appeal = appeal_get(user=request.user, reference=reference)
        return Response(RiskFlagOutput(risk_flags(appeal=appeal), many=True).data)


class AnomalyHourListView(APIView):
    @extend_schema(
        operation_id="appeal_anomalies",
        summary="Anomalous hours in the case's operation logs",
        description="Hours of one account's activity that stood out from the account's own and its peers' baseline "
                    "in the uploaded log, strongest first, each with the features that drove it (value vs usual) and "
                    "its log lines. Tenant-scoped: another enterprise's case is a 404.",
        parameters=[AnomalyQueryInput],
        responses={200: AnomalyHourOutput(many=True),
                   400: OpenApiResponse(ErrorOutput, description="Bad query: code `invalid`, field errors in `fields`"),
                   401: OpenApiResponse(ErrorOutput, description="Not signed in"),
                   404: OpenApiResponse(ErrorOutput, description="No such case for you (code `not_found`)")},
        tags=["evidence"],
    )
    def get(self, request, reference):
        appeal = appeal_get(user=request.user, reference=reference)
        query = AnomalyQueryInput(data=request.query_params)
        query.is_valid(raise_exception=True)
        rows = anomaly_hours(appeal=appeal, **query.validated_data)
        return Response(AnomalyHourOutput(rows, many=True).data)


class LogHealthView(APIView):
    @extend_schema(
        operation_id="appeal_evidence_health",
        summary="Account health from the case's operation logs",
        description=("Per operation log of the case, per account and Asia/Shanghai day: daily activity, the counts behind "
                     "the rates and the four rates (acceptance, reply, delete/block, complaint; null = not enough data), "
                     "the thresholds applied (HEALTH_THRESHOLDS) and the health risk flags with their log lines."),
        parameters=[LogHealthQuery],
        responses={200: LogHealthOutput(many=True),
                   400: OpenApiResponse(description="A bad filter: `fields.evidence` (not a UUID) or `fields.operator` (too long)."),
                   404: OpenApiResponse(description="No such case for you (another tenant's cases do not exist for you).")},
        tags=["evidence"],
    )
    def get(self, request, reference):
        appeal = appeal_get(user=request.user, reference=reference)
        query = LogHealthQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        analyses = log_health(appeal=appeal, evidence_uuid=query.validated_data.get("evidence"))
        context = {"flags": list(health_flags(appeal=appeal)), "operator": query.validated_data.get("operator")}
        return Response(LogHealthOutput(analyses, many=True, context=context).data)


class CaseBundleView(APIView):
    def perform_content_negotiation(self, request, force=False):
        return super().perform_content_negotiation(request, force=True)

    @extend_schema(operation_id="appeal_bundle", responses={(200, "application/zip"): OpenApiTypes.BINARY}, tags=["evidence"])
    def get(self, request, reference):
        appeal = appeal_get(user=request.user, reference=reference)
        bundle = evidence_bundle(appeal=appeal, by=request.user)
        response = FileResponse(bundle, as_attachment=True, filename=f"{appeal.reference}-bundle.zip", content_type="application/zip")
        response["Cache-Control"] = "private, no-store"
        return response


urlpatterns = [
    path("appeals/<str:reference>/evidence/", EvidenceListCreateView.as_view(), name="api-evidence-list"),
    path("appeals/<str:reference>/evidence/checklist/", EvidenceChecklistView.as_view(), name="api-evidence-checklist"),
    path("appeals/<str:reference>/evidence/health/", LogHealthView.as_view(), name="api-evidence-health"),
    path("appeals/<str:reference>/evidence/<uuid:uuid>/", EvidenceDetailView.as_view(), name="api-evidence-detail"),
    path("appeals/<str:reference>/evidence/<uuid:uuid>/download/", EvidenceDownloadView.as_view(), name="api-evidence-download"),
    path("appeals/<str:reference>/evidence/<uuid:uuid>/preview/", EvidencePreviewView.as_view(), name="api-evidence-preview"),
    path("appeals/<str:reference>/evidence/<uuid:uuid>/thumbnail/", EvidenceThumbnailView.as_view(), name="api-evidence-thumbnail"),
    path("appeals/<str:reference>/risk-flags/", RiskFlagListView.as_view(), name="api-risk-flags"),
    path("appeals/<str:reference>/anomalies/", AnomalyHourListView.as_view(), name="api-anomalies"),
    path("appeals/<str:reference>/bundle/", CaseBundleView.as_view(), name="api-appeal-bundle"),
]
