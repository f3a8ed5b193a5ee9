"""Surge API: alerts (list, detail, acknowledge, resolve), the emergency state, the settings.

Mounted under /api/v1/. Reading alerts is for desk staff, acting on them and the settings
for managers; the emergency state is for any signed-in user (applicants see the hotline,
not which slice surges).
"""

from django.urls import path
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema, extend_schema_field, inline_serializer
from rest_framework import generics, serializers
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from appeals.core.models import Role
from appeals.notifications.models import Message
from appeals.surge import services as surge_services
from appeals.surge.models import SurgeAlert, SurgeDimension, SurgeResolution, SurgeState
from appeals.surge.selectors import surge_alert_get, surge_alert_messages, surge_alerts_for, surge_volume, with_slice_labels


class IsDesk(BasePermission):
    message = _("Only desk staff may see surge alerts.")

    def has_permission(self, request, view):
        return bool(request.user and request.user.is_authenticated and request.user.is_desk)


class IsManager(BasePermission):
    message = _("Only managers may do this.")

    def has_permission(self, request, view):
        return bool(request.user and request.user.is_authenticated and request.user.has_role(Role.MANAGER))


class AlertOut(serializers.ModelSerializer):
    slice_label = serializers.CharField(read_only=True)
    acknowledged_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    resolved_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    # "" while the alert is open: the schema's enum must include the blank value it returns.
    resolution = serializers.ChoiceField(choices=SurgeResolution.choices, allow_blank=True, read_only=True)

    class Meta:
        model = SurgeAlert
        fields = [
            "id", "dimension", "value", "slice_label", "state", "window_minutes", "window_start", "count", "usual",
            "ratio", "floor", "factor", "opened_at", "acknowledged_at", "acknowledged_by", "resolved_at", "resolved_by",
            "resolution", "comment",
        ]  # fmt: skip
        read_only_fields = fields


class VolumePointOut(serializers.Serializer):
    start = serializers.DateTimeField()
    count = serializers.IntegerField()


class VolumeOut(serializers.Serializer):
    bucket_minutes = serializers.IntegerField()
    usual_per_bucket = serializers.FloatField()
    threshold_per_bucket = serializers.FloatField()
    points = VolumePointOut(many=True)


class NotificationOut(serializers.ModelSerializer):
    """One outbox message about the alert: `status` is its delivery state, `error` the reason."""

    status = serializers.ChoiceField(source="state", choices=Message._meta.get_field("state").choices, read_only=True)
    error = serializers.CharField(source="reason", read_only=True)

    class Meta:
        model = Message
        fields = ["channel", "recipient", "status", "attempts", "error", "sent_at"]
        read_only_fields = fields


class AlertDetailOut(AlertOut):
    volume = serializers.SerializerMethodField()
    notifications = serializers.SerializerMethodField()

    class Meta(AlertOut.Meta):
        fields = [*AlertOut.Meta.fields, "volume", "notifications"]
        read_only_fields = fields

    @extend_schema_field(NotificationOut(many=True))
    def get_notifications(self, alert):
        return NotificationOut(surge_alert_messages(alert), many=True).data

    @extend_schema_field(VolumeOut)
    def get_volume(self, alert):
        series = surge_volume(alert=alert)
        return VolumeOut(
            {
                "bucket_minutes": series.bucket_minutes,
                "usual_per_bucket": series.usual_per_bucket,
                "threshold_per_bucket": series.threshold_per_bucket,
                "points": [{"start": t, "count": n} for t, n in series.points],
            }
        ).data


class CommentIn(serializers.Serializer):
    comment = serializers.CharField(required=False, allow_blank=True, max_length=2000, default="")


class SettingsSerializer(serializers.Serializer):
    window_minutes = serializers.IntegerField(min_value=1, max_value=720)
    floor = serializers.IntegerField(min_value=1, max_value=1_000_000)
    factor = serializers.FloatField(min_value=1.0, max_value=100.0)
    history_days = serializers.IntegerField(min_value=1, max_value=28)
    quiet_windows = serializers.IntegerField(min_value=1, max_value=48)
    hotline = serializers.CharField(max_length=40)


class AlertFilterIn(serializers.Serializer):
    state = serializers.ChoiceField(choices=SurgeState.choices, required=False)
    dimension = serializers.ChoiceField(choices=SurgeDimension.choices, required=False)


@extend_schema(tags=["surge"], parameters=[AlertFilterIn])
class AlertListApi(generics.ListAPIView):
    """Surge alerts, newest first; filter with ?state= and ?dimension=."""

    permission_classes = [IsDesk]
    serializer_class = AlertOut

    def get_queryset(self):
        filters = AlertFilterIn(data=self.request.query_params)
        filters.is_valid(raise_exception=True)
        return surge_alerts_for(self.request.user).filter(**filters.validated_data)

    def paginate_queryset(self, queryset):
        page = super().paginate_queryset(queryset)
        return with_slice_labels(page) if page is not None else None


@extend_schema(tags=["surge"])
class AlertDetailApi(generics.RetrieveAPIView):
    """One alert with its notifications and the volume in its slice around it."""

    permission_classes = [IsDesk]
    serializer_class = AlertDetailOut

    def get_object(self):
        return surge_alert_get(user=self.request.user, pk=self.kwargs["pk"])


class _AlertVerbApi(APIView):
    permission_classes = [IsManager]
    service = None

    def post(self, request, pk):
        body = CommentIn(data=request.data)
        body.is_valid(raise_exception=True)
        alert = surge_alert_get(user=request.user, pk=pk)
        alert = type(self).service(alert=alert, by=request.user, comment=body.validated_data["comment"])
        return Response(AlertOut(alert).data)


@extend_schema(tags=["surge"], request=CommentIn, responses=AlertOut)
class AlertAcknowledgeApi(_AlertVerbApi):
    """A manager has seen the alert; the emergency channel stays open until it is resolved."""

    service = staticmethod(surge_services.surge_alert_acknowledge)


@extend_schema(tags=["surge"], request=CommentIn, responses=AlertOut)
class AlertResolveApi(_AlertVerbApi):
    """A manager closes the alert (and, with the last one, the emergency channel)."""

    service = staticmethod(surge_services.surge_alert_resolve)


EmergencyOut = inline_serializer(
    name="EmergencyState",
    fields={
        "active": serializers.BooleanField(),
        "hotline": serializers.CharField(),
        "since": serializers.DateTimeField(allow_null=True),
        "alerts": AlertOut(many=True, help_text="Desk staff only; empty for applicants."),
    },
)


@extend_schema(tags=["surge"], responses=EmergencyOut)
class EmergencyApi(APIView):
    """Whether the emergency channel is open, and its hotline (for the applicant pages)."""

    permission_classes = [IsAuthenticated]

    def get(self, request):
        state = surge_services.surge_emergency_state()
        alerts = state.alerts if request.user.is_desk else ()
        return Response(
            {
                "active": state.active,
                "hotline": state.hotline,
                "since": serializers.DateTimeField().to_representation(state.since) if state.since else None,
                "alerts": AlertOut(alerts, many=True).data,
            }
        )


@extend_schema(tags=["surge"])
class SurgeSettingsApi(APIView):
    """The surge thresholds in force (managers' row, else the settings defaults)."""

    permission_classes = [IsManager]

    @extend_schema(responses=SettingsSerializer)
    def get(self, request):
        return Response(SettingsSerializer(surge_services.surge_policy()).data)

    @extend_schema(request=SettingsSerializer, responses=SettingsSerializer)
    def put(self, request):
        return self._update(request, partial=False)

    @extend_schema(request=SettingsSerializer(partial=True), responses=SettingsSerializer)
    def patch(self, request):
        return self._update(request, partial=True)

    def _update(self, request, *, partial):
        body = SettingsSerializer(data=request.data, partial=partial)
        body.is_valid(raise_exception=True)
        surge_services.surge_settings_update(by=request.user, **body.validated_data)
        return Response(SettingsSerializer(surge_services.surge_policy()).data)


urlpatterns = [
    path("surge/alerts/", AlertListApi.as_view(), name="api-surge-alerts"),
    path("surge/alerts/<int:pk>/", AlertDetailApi.as_view(), name="api-surge-alert"),
    path("surge/alerts/<int:pk>/acknowledge/", AlertAcknowledgeApi.as_view(), name="api-surge-acknowledge"),
    path("surge/alerts/<int:pk>/resolve/", AlertResolveApi.as_view(), name="api-surge-resolve"),
    path("surge/emergency/", EmergencyApi.as_view(), name="api-surge-emergency"),
    path("surge/settings/", SurgeSettingsApi.as_view(), name="api-surge-settings"),
]
