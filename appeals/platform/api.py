"""The platform connection over the API, mounted under /api/v1/.

- /platform/wecom/connection/ GET (what is connected: corp id and whether a secret is set, never
  the secret), POST (connect), DELETE (disconnect); /platform/wecom/connection/rotate/ POST;
- /appeals/<reference>/wecom-pulls/ GET (the appeal's pulls), POST (start one: 202);
  /appeals/<reference>/wecom-pulls/<id>/ GET (its progress: what the case page polls);
- /appeals/<reference>/wecom-records/ POST (an exported file of the same records, multipart).
"""

from django.urls import path, reverse
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from appeals.core.api.serializers import ErrorOutput
from appeals.core.selectors import appeal_get
from appeals.evidence.api import EvidenceOutput
from appeals.evidence.selectors import evidence_list
from appeals.platform import services
from appeals.platform.models import PullState
from appeals.platform.selectors import connection_of, pull_get, pulls_of
from appeals.shared.exceptions import NotFound

TAGS = ["platform"]


class ConnectInput(serializers.Serializer):
    corp_id = serializers.CharField(max_length=64, help_text="The enterprise's corp ID, e.g. ww0123456789abcdef.")
    corp_secret = serializers.CharField(max_length=128, write_only=True, trim_whitespace=True,
                                        help_text="The app's secret. Stored encrypted; never returned.")


class RotateInput(serializers.Serializer):
    corp_secret = serializers.CharField(max_length=128, write_only=True, help_text="The new secret. Never returned.")


class ConnectionOutput(serializers.Serializer):
    connected = serializers.BooleanField()
    corp_id = serializers.CharField(allow_null=True)
    secret_set = serializers.BooleanField(help_text="Whether a secret is stored; the secret itself is never shown.")
    connected_by = serializers.CharField(allow_null=True)
    connected_at = serializers.DateTimeField(allow_null=True)
    rotated_at = serializers.DateTimeField(allow_null=True)


def connection_data(connection) -> dict:
    if connection is None:
        return {"connected": False, "corp_id": None, "secret_set": False, "connected_by": None,
                "connected_at": None, "rotated_at": None}
    return {"connected": True, "corp_id": connection.corp_id, "secret_set": bool(connection.corp_secret),
            "connected_by": connection.connected_by.username, "connected_at": connection.connected_at,
            "rotated_at": connection.rotated_at}


class PullRunOutput(serializers.Serializer):
    id = serializers.IntegerField()
    state = serializers.ChoiceField(choices=PullState.choices)
    state_label = serializers.CharField(source="get_state_display")
    finished = serializers.SerializerMethodField()
    window_start = serializers.DateTimeField()
    window_end = serializers.DateTimeField()
    windows_total = serializers.IntegerField()
    pages_fetched = serializers.IntegerField()
    records = serializers.IntegerField()
    retries = serializers.IntegerField()
    error = serializers.CharField(help_text="Why it failed, for people to read.")
    evidence = serializers.UUIDField(source="evidence.uuid", allow_null=True, default=None)
    created_at = serializers.DateTimeField()
    started_at = serializers.DateTimeField(allow_null=True)
    finished_at = serializers.DateTimeField(allow_null=True)
    progress_url = serializers.SerializerMethodField()

    def get_finished(self, run) -> bool:
        return run.state in (PullState.DONE, PullState.FAILED)

    def get_progress_url(self, run) -> str:
        return reverse("api-wecom-pull-detail", kwargs={"reference": run.appeal.reference, "pk": run.pk})


class RecordsUploadInput(serializers.Serializer):
    file = serializers.FileField(allow_empty_file=True, use_url=False,
                                 help_text="The API's JSON pages, or the console's CSV / XLSX export (Chinese headers).")


class ConnectionView(APIView):
    @extend_schema(operation_id="wecom_connection_get", tags=TAGS, responses={200: ConnectionOutput, 403: ErrorOutput})
    def get(self, request):
        services.require_enterprise_admin(request.user, request.user.enterprise_id)
        return Response(ConnectionOutput(connection_data(connection_of(request.user))).data)

    @extend_schema(operation_id="wecom_connect", tags=TAGS, request=ConnectInput,
                   responses={201: ConnectionOutput,
                              400: OpenApiResponse(ErrorOutput, description="Bad corp_id / corp_secret (field errors)"),
                              403: OpenApiResponse(ErrorOutput, description="Not an enterprise admin"),
                              409: OpenApiResponse(ErrorOutput, description="already_connected")})
    def post(self, request):
        data = ConnectInput(data=request.data)
        data.is_valid(raise_exception=True)
        connection = services.wecom_connect(by=request.user, **data.validated_data)
        return Response(ConnectionOutput(connection_data(connection_of(request.user) or connection)).data,
                        status=status.HTTP_201_CREATED)

    @extend_schema(operation_id="wecom_disconnect", tags=TAGS,
                   responses={204: None, 403: ErrorOutput, 404: OpenApiResponse(ErrorOutput, description="Not connected"),
                              409: OpenApiResponse(ErrorOutput, description="pull_running")})
    def delete(self, request):
        services.require_enterprise_admin(request.user, request.user.enterprise_id)
        connection = connection_of(request.user)
        if connection is None:
            raise NotFound(code="not_connected")
        services.wecom_disconnect(connection=connection, by=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class RotateView(APIView):
    @extend_schema(operation_id="wecom_rotate_secret", tags=TAGS, request=RotateInput,
                   responses={200: ConnectionOutput, 400: ErrorOutput, 403: ErrorOutput,
                              404: OpenApiResponse(ErrorOutput, description="Not connected")})
    def post(self, request):
        services.require_enterprise_admin(request.user, request.user.enterprise_id)
        connection = connection_of(request.user)
        if connection is None:
            raise NotFound(code="not_connected")
        data = RotateInput(data=request.data)
        data.is_valid(raise_exception=True)
        services.wecom_rotate_secret(connection=connection, by=request.user, **data.validated_data)
        return Response(ConnectionOutput(connection_data(connection_of(request.user))).data)


class PullListView(APIView):
    @extend_schema(operation_id="appeal_wecom_pulls", tags=TAGS, responses={200: PullRunOutput(many=True), 404: ErrorOutput})
    def get(self, request, reference):
        appeal = appeal_get(user=request.user, reference=reference)
        return Response(PullRunOutput(pulls_of(appeal=appeal).select_related("appeal"), many=True).data)

    @extend_schema(operation_id="appeal_wecom_pull_start", tags=TAGS, request=None,
                   responses={202: PullRunOutput,
                              403: OpenApiResponse(ErrorOutput, description="Not an admin of the appeal's enterprise"),
                              404: ErrorOutput,
                              409: OpenApiResponse(ErrorOutput, description="not_connected, pull_running, evidence_locked, "
                                                                            "records_too_old (older than 180 days), records_window_empty")})
    def post(self, request, reference):
        appeal = appeal_get(user=request.user, reference=reference)
        run = services.wecom_pull_start(appeal=appeal, by=request.user)
        run = pulls_of(appeal=appeal).select_related("appeal").get(pk=run.pk)
        return Response(PullRunOutput(run).data, status=status.HTTP_202_ACCEPTED)


class PullDetailView(APIView):
    @extend_schema(operation_id="appeal_wecom_pull_progress", tags=TAGS, responses={200: PullRunOutput, 404: ErrorOutput})
    def get(self, request, reference, pk):
        run = pull_get(user=request.user, reference=reference, pk=pk)
        response = Response(PullRunOutput(run).data)
        response["Cache-Control"] = "no-store"
        return response


class RecordsUploadView(APIView):
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(operation_id="appeal_wecom_records_upload", tags=TAGS, request={"multipart/form-data": RecordsUploadInput},
                   responses={201: EvidenceOutput,
                              400: OpenApiResponse(ErrorOutput, description="Refused file: too_large, not_operation_records, "
                                                                            "invalid_json, corrupt_xlsx, no_records, ... (fields.file)"),
                              403: ErrorOutput, 404: ErrorOutput,
                              409: OpenApiResponse(ErrorOutput, description="evidence_locked, quota")})
    def post(self, request, reference):
        appeal = appeal_get(user=request.user, reference=reference)
        data = RecordsUploadInput(data=request.data)
        data.is_valid(raise_exception=True)
        item = services.wecom_records_upload(appeal=appeal, by=request.user, file=data.validated_data["file"])
        item = evidence_list(appeal=appeal).get(pk=item.pk)
        return Response(EvidenceOutput(item, context={"request": request}).data, status=status.HTTP_201_CREATED)


urlpatterns = [
    path("platform/wecom/connection/", ConnectionView.as_view(), name="api-wecom-connection"),
    path("platform/wecom/connection/rotate/", RotateView.as_view(), name="api-wecom-rotate"),
    path("appeals/<str:reference>/wecom-pulls/", PullListView.as_view(), name="api-wecom-pulls"),
    path("appeals/<str:reference>/wecom-pulls/<int:pk>/", PullDetailView.as_view(), name="api-wecom-pull-detail"),
    path("appeals/<str:reference>/wecom-records/", RecordsUploadView.as_view(), name="api-wecom-records"),
]
