"""Webhook API, under /api/v1/webhooks/: endpoints (CRUD, rotate the secret), each endpoint's
delivery log, and a manager's redelivery.

An enterprise admin manages their enterprise's endpoints; a manager reads every endpoint and
manages the platform-wide ones. The secret is in the response to the create and rotate calls
only (`secret`), never in any other response.
"""

from django.urls import path
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import generics, serializers, status
from rest_framework.permissions import BasePermission
from rest_framework.response import Response
from rest_framework.views import APIView

from appeals.core.models import Role
from appeals.webhooks import services
from appeals.webhooks.models import DeliveryOutcome, WebhookDelivery, WebhookEndpoint, WebhookEventType
from appeals.webhooks.selectors import webhook_deliveries, webhook_delivery_get, webhook_endpoint_get, webhook_endpoints_for


class IsIntegrator(BasePermission):
    message = _("Only enterprise admins and managers may manage webhooks.")

    def has_permission(self, request, view):
        user = request.user
        return bool(user and user.is_authenticated and (user.enterprise_id is not None or user.has_role(Role.MANAGER)))


class EndpointOut(serializers.ModelSerializer):
    scope = serializers.SerializerMethodField()
    events = serializers.ListField(child=serializers.ChoiceField(choices=WebhookEventType.choices))

    class Meta:
        model = WebhookEndpoint
        fields = ["id", "url", "description", "events", "active", "scope", "enterprise", "secret_rotated_at",
                  "previous_secret_expires_at", "created_at", "updated_at"]
        read_only_fields = fields

    def get_scope(self, endpoint) -> str:
        return "platform" if endpoint.is_platform else "enterprise"


class EndpointWithSecretOut(EndpointOut):
    secret = serializers.CharField(help_text="The signing secret (whsec_...). Shown in this response only: store it now.")

    class Meta(EndpointOut.Meta):
        fields = [*EndpointOut.Meta.fields, "secret"]
        read_only_fields = fields


class EndpointIn(serializers.Serializer):
    url = serializers.CharField(max_length=254)
    description = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    events = serializers.MultipleChoiceField(choices=WebhookEventType.choices, required=False, allow_empty=False,
                                             default=WebhookEventType.values)
    platform = serializers.BooleanField(required=False, default=False,
                                        help_text="Managers: an endpoint for every enterprise's events.")


class EndpointPatchIn(serializers.Serializer):
    url = serializers.CharField(max_length=254, required=False)
    description = serializers.CharField(max_length=200, required=False, allow_blank=True)
    events = serializers.MultipleChoiceField(choices=WebhookEventType.choices, required=False, allow_empty=False)
    active = serializers.BooleanField(required=False)


class RotateIn(serializers.Serializer):
    keep_previous_hours = serializers.IntegerField(
        min_value=0, max_value=168, required=False,
        help_text="How long the old secret keeps signing too (a second v1 signature); default 24, 0 retires it now.")


class DeliveryOut(serializers.ModelSerializer):
    webhook_id = serializers.CharField(source="event.webhook_id", read_only=True)
    event_type = serializers.ChoiceField(source="event.type", choices=WebhookEventType.choices, read_only=True)
    appeal = serializers.SerializerMethodField()
    outcome = serializers.ChoiceField(choices=DeliveryOutcome.choices, read_only=True)

    class Meta:
        model = WebhookDelivery
        fields = ["id", "webhook_id", "event_type", "appeal", "attempt", "outcome", "status_code", "latency_ms", "error",
                  "manual", "created_at"]
        read_only_fields = fields

    def get_appeal(self, delivery) -> str:
        return delivery.event.payload["data"]["appeal"]["reference"]


class RedeliveryOut(serializers.Serializer):
    webhook_id = serializers.CharField()
    message_id = serializers.IntegerField()
    state = serializers.CharField()


@extend_schema(tags=["webhooks"])
class EndpointListApi(generics.ListAPIView):
    """Your webhook endpoints (managers: every endpoint); POST registers one and returns its secret once.

    POST errors: 400 `invalid` (`fields.events`, `fields.url`) or `webhook_url_refused` (`fields.url`:
    not https, credentials in it, a loopback, link-local/metadata, private or reserved address, or a
    name that does not resolve); 403 `permission_denied` for desk staff other than managers, or
    `platform: true` from an enterprise admin."""

    permission_classes = [IsIntegrator]
    serializer_class = EndpointOut

    def get_queryset(self):
        return webhook_endpoints_for(self.request.user)

    @extend_schema(request=EndpointIn, responses={201: EndpointWithSecretOut})
    def post(self, request):
        body = EndpointIn(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        endpoint, secret = services.webhook_endpoint_create(
            by=request.user, url=data["url"], events=list(data["events"]), description=data["description"], platform=data["platform"])
        out = EndpointWithSecretOut(endpoint).data
        out["secret"] = secret
        return Response(out, status=status.HTTP_201_CREATED, headers={"Cache-Control": "no-store"})


@extend_schema(tags=["webhooks"])
class EndpointDetailApi(APIView):
    """One endpoint (without its secret); PATCH changes it, DELETE removes it with its log.

    Errors: 404 for another enterprise's endpoint; 403 `permission_denied` when a manager changes an
    enterprise's endpoint (managers change platform-wide ones); 400 as for POST."""

    permission_classes = [IsIntegrator]

    def _get(self, request, pk):
        return webhook_endpoint_get(user=request.user, pk=pk)

    @extend_schema(responses=EndpointOut)
    def get(self, request, pk):
        return Response(EndpointOut(self._get(request, pk)).data)

    @extend_schema(request=EndpointPatchIn, responses=EndpointOut)
    def patch(self, request, pk):
        endpoint = self._get(request, pk)
        body = EndpointPatchIn(data=request.data)
        body.is_valid(raise_exception=True)
        data = dict(body.validated_data)
        if "events" in data:
            data["events"] = list(data["events"])
        endpoint = services.webhook_endpoint_update(endpoint=endpoint, by=request.user, **data)
        return Response(EndpointOut(endpoint).data)

    @extend_schema(responses={204: OpenApiResponse(description="Removed.")})
    def delete(self, request, pk):
        services.webhook_endpoint_delete(endpoint=self._get(request, pk), by=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema(tags=["webhooks"], request=RotateIn, responses=EndpointWithSecretOut)
class EndpointRotateApi(APIView):
    """A new signing secret, returned this once; the old one keeps signing for `keep_previous_hours`."""

    permission_classes = [IsIntegrator]

    def post(self, request, pk):
        endpoint = webhook_endpoint_get(user=request.user, pk=pk)
        body = RotateIn(data=request.data)
        body.is_valid(raise_exception=True)
        endpoint, secret = services.webhook_endpoint_rotate_secret(
            endpoint=endpoint, by=request.user, keep_previous_hours=body.validated_data.get("keep_previous_hours"))
        out = EndpointWithSecretOut(endpoint).data
        out["secret"] = secret
        return Response(out, headers={"Cache-Control": "no-store"})


@extend_schema(tags=["webhooks"])
class DeliveryListApi(generics.ListAPIView):
    """The endpoint's delivery log: one row per attempt (status, latency, attempt number), newest first."""

    permission_classes = [IsIntegrator]
    serializer_class = DeliveryOut

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # the schema generator has no endpoint to read
            return WebhookDelivery.objects.none()
        return webhook_deliveries(webhook_endpoint_get(user=self.request.user, pk=self.kwargs["pk"]))


@extend_schema(tags=["webhooks"], request=None, responses={202: RedeliveryOut})
class RedeliverApi(APIView):
    """Managers: send this attempt's event to its endpoint again, under the same webhook-id.

    Errors: 403 `permission_denied` for enterprise admins; 400 `endpoint_inactive` when the endpoint
    is disabled."""

    permission_classes = [IsIntegrator]

    def post(self, request, pk):
        delivery = webhook_delivery_get(user=request.user, pk=pk)
        message = services.webhook_redeliver(delivery=delivery, by=request.user)
        return Response({"webhook_id": delivery.event.webhook_id, "message_id": message.pk, "state": message.state},
                        status=status.HTTP_202_ACCEPTED)


urlpatterns = [
    path("webhooks/endpoints/", EndpointListApi.as_view(), name="api-webhook-endpoints"),
    path("webhooks/endpoints/<int:pk>/", EndpointDetailApi.as_view(), name="api-webhook-endpoint"),
    path("webhooks/endpoints/<int:pk>/rotate-secret/", EndpointRotateApi.as_view(), name="api-webhook-rotate"),
    path("webhooks/endpoints/<int:pk>/deliveries/", DeliveryListApi.as_view(), name="api-webhook-deliveries"),
    path("webhooks/deliveries/<int:pk>/redeliver/", RedeliverApi.as_view(), name="api-webhook-redeliver"),
]
