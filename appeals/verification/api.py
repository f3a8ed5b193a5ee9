"""Verification and delivery status of an appeal: enter the SMS code, resend, see messages.

Mounted under /api/v1/. Thin views: validate input, call one service, serialize output.
"""

from django.urls import path
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from appeals.core.api.serializers import ErrorOutput
from appeals.core.selectors import appeal_get
from appeals.notifications.models import Channel, MessageState
from appeals.verification import services
from appeals.verification.selectors import appeal_messages, verification_status


class ChannelOutput(serializers.Serializer):
    channel = serializers.ChoiceField(choices=Channel.choices)
    destination = serializers.CharField(help_text="Masked, e.g. 138****5678.")
    state = serializers.ChoiceField(choices=["none", "pending", "expired", "verified", "locked"])
    attempts_left = serializers.IntegerField(allow_null=True)
    expires_at = serializers.DateTimeField(allow_null=True)
    resend_in = serializers.IntegerField(help_text="Seconds until a new code or link may be requested.")


class MessageOutput(serializers.Serializer):
    id = serializers.IntegerField()
    channel = serializers.ChoiceField(choices=Channel.choices)
    template = serializers.CharField()
    label = serializers.CharField()
    state = serializers.ChoiceField(choices=MessageState.choices)
    reason = serializers.CharField()
    attempts = serializers.IntegerField()
    created_at = serializers.DateTimeField()
    sent_at = serializers.DateTimeField(allow_null=True)


class VerificationOutput(serializers.Serializer):
    reference = serializers.CharField()
    appeal_state = serializers.CharField()
    channels = ChannelOutput(many=True)
    messages = MessageOutput(many=True)


def _status_body(appeal) -> dict:
    appeal.refresh_from_db(fields=["state"])
    return VerificationOutput({
        "reference": appeal.reference,
        "appeal_state": appeal.state,
        "channels": [vars(c) for c in verification_status(appeal=appeal)],
        "messages": list(appeal_messages(appeal=appeal)),
    }).data


class VerificationStatusApi(APIView):
    @extend_schema(operation_id="appeal_verification_status", responses={200: VerificationOutput, 404: ErrorOutput},
                   tags=["verification"])
    def get(self, request, reference: str):
        return Response(_status_body(appeal_get(user=request.user, reference=reference)))


class CodeInput(serializers.Serializer):
    code = serializers.CharField(max_length=12, help_text="The 6-digit code from the SMS.")


class VerifyCodeApi(APIView):
    @extend_schema(
        operation_id="appeal_verification_verify_code", request=CodeInput, tags=["verification"],
        responses={200: VerificationOutput, 400: OpenApiResponse(ErrorOutput, description="Malformed or wrong code"),
                   403: ErrorOutput, 404: ErrorOutput,
                   409: OpenApiResponse(ErrorOutput, description="Expired, locked, not sent yet, or not awaiting verification")},
    )
    def post(self, request, reference: str):
        appeal = appeal_get(user=request.user, reference=reference)
        data = CodeInput(data=request.data)
        data.is_valid(raise_exception=True)
        appeal = services.verification_check_code(appeal=appeal, code=data.validated_data["code"], by=request.user)
        return Response(_status_body(appeal))


class ResendInput(serializers.Serializer):
    channel = serializers.ChoiceField(choices=Channel.choices)


class ResendApi(APIView):
    @extend_schema(
        operation_id="appeal_verification_resend", request=ResendInput, tags=["verification"],
        responses={202: VerificationOutput, 400: ErrorOutput, 403: ErrorOutput, 404: ErrorOutput, 409: ErrorOutput,
                   429: OpenApiResponse(ErrorOutput, description="Cooldown or 24-hour cap; Retry-After header and retry_after")},
    )
    def post(self, request, reference: str):
        appeal = appeal_get(user=request.user, reference=reference)
        data = ResendInput(data=request.data)
        data.is_valid(raise_exception=True)
        services.verification_resend(appeal=appeal, channel=data.validated_data["channel"], by=request.user)
        return Response(_status_body(appeal), status=status.HTTP_202_ACCEPTED)


class EscalateInput(serializers.Serializer):
    comment = serializers.CharField(help_text="Why the case cannot be verified.")


class EscalateApi(APIView):
    @extend_schema(
        operation_id="appeal_verification_escalate", request=EscalateInput, tags=["verification"],
        description="A first reviewer moves a submitted case that cannot be verified to the manual (hotline) channel.",
        responses={200: VerificationOutput, 400: ErrorOutput, 403: ErrorOutput, 404: ErrorOutput, 409: ErrorOutput},
    )
    def post(self, request, reference: str):
        appeal = appeal_get(user=request.user, reference=reference)
        data = EscalateInput(data=request.data)
        data.is_valid(raise_exception=True)
        appeal = services.verification_escalate(appeal=appeal, by=request.user, reason=data.validated_data["comment"])
        return Response(_status_body(appeal))


class TokenInput(serializers.Serializer):
    token = serializers.CharField(max_length=500)


class LinkOutput(serializers.Serializer):
    status = serializers.ChoiceField(choices=["verified", "used", "expired", "forged", "replaced", "closed"])
    reference = serializers.CharField(allow_null=True)
    appeal_state = serializers.CharField(allow_null=True)


class ConfirmEmailApi(APIView):
    permission_classes = [AllowAny]
    authentication_classes: list = []

    @extend_schema(operation_id="verification_confirm_email", request=TokenInput, responses={200: LinkOutput, 400: ErrorOutput},
                   tags=["verification"], description="Use the token of an email link (single use, valid 24 hours).")
    def post(self, request):
        data = TokenInput(data=request.data)
        data.is_valid(raise_exception=True)
        check = services.verification_confirm_email(token=data.validated_data["token"])
        return Response(LinkOutput({"status": check.status, "reference": check.appeal.reference if check.appeal else None,
                                    "appeal_state": check.appeal.state if check.appeal else None}).data)


urlpatterns = [
    path("appeals/<str:reference>/verification/", VerificationStatusApi.as_view(), name="api-verification-status"),
    path("appeals/<str:reference>/verification/code/", VerifyCodeApi.as_view(), name="api-verification-code"),
    path("appeals/<str:reference>/verification/resend/", ResendApi.as_view(), name="api-verification-resend"),
    path("appeals/<str:reference>/verification/escalate/", EscalateApi.as_view(), name="api-verification-escalate"),
    path("verification/email/confirm/", ConfirmEmailApi.as_view(), name="api-verification-confirm-email"),
]
