"""Legal hold over the API: POST /api/v1/appeals/<reference>/legal-hold/ (managers)."""

from django.urls import path
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from appeals.core.api.serializers import ErrorOutput
from appeals.core.selectors import appeal_get
from appeals.records import retention


class LegalHoldInput(serializers.Serializer):
    legal_hold = serializers.BooleanField(help_text="true: keep the case's personal data; false: the retention clock runs again.")
    reason = serializers.CharField(required=False, allow_blank=True, max_length=500,
                                   help_text="Why (required when setting the hold).")


class LegalHoldOutput(serializers.Serializer):
    reference = serializers.CharField()
    legal_hold = serializers.BooleanField()
    personal_data_erased_at = serializers.DateTimeField(allow_null=True)


class LegalHoldApi(APIView):
    @extend_schema(operation_id="appeal_legal_hold", request=LegalHoldInput, tags=["records"],
                   responses={200: LegalHoldOutput, 400: ErrorOutput, 403: ErrorOutput, 404: ErrorOutput})
    def post(self, request, reference: str):
        appeal = appeal_get(user=request.user, reference=reference)
        data = LegalHoldInput(data=request.data)
        data.is_valid(raise_exception=True)
        appeal = retention.appeal_set_legal_hold(appeal=appeal, by=request.user, hold=data.validated_data["legal_hold"],
                                                 reason=data.validated_data.get("reason", ""))
        return Response(LegalHoldOutput(appeal).data)


urlpatterns = [
    path("appeals/<str:reference>/legal-hold/", LegalHoldApi.as_view(), name="api-records-legal-hold"),
]
