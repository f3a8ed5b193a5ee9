"""The intake API, mounted under /api/v1/intake/.

- `incidents/`: the enforcement system's service account pushes a ban incident (POST) and lists
  what it pushed (GET). Pushing twice creates nothing twice: send an `Idempotency-Key` (every
  POST of the API honours it) and, better still, your own `external_id`.
- `service-accounts/`: managers create service accounts, set the enterprises each serves,
  issue its API tokens (knox, shown once) and revoke it.

Thin views: validate, call one service (appeals.intake.services), answer through a selector.
"""

from datetime import timedelta

from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from appeals.core.api.serializers import (
    EARLIEST_BAN,
    NOTICE_MAX,
    EnterpriseBriefOutput,
    ErrorOutput,
    IncidentOutput,
    TokenOutput,
)
from appeals.core.models import Enterprise, IncidentKind, Platform, ReasonCategory
from appeals.intake import selectors, services
from appeals.shared.pagination import Pagination

# --- serializers ---------------------------------------------------------------------------


class IncidentPushInput(serializers.Serializer):
    platform = serializers.ChoiceField(choices=Platform.choices, default=Platform.WECOM,
                                       help_text="The messaging platform of the account.")
    account_id = serializers.CharField(max_length=64, help_text="The account's id on that platform (as registered).")
    banned_at = serializers.DateTimeField(help_text="When the ban took effect.")
    kind = serializers.ChoiceField(choices=IncidentKind.choices, help_text="Which kind of account trouble.")
    reason = serializers.ChoiceField(choices=ReasonCategory.choices, default=ReasonCategory.UNKNOWN)
    notice_text = serializers.CharField(max_length=NOTICE_MAX, allow_blank=True, required=False, default="",
                                        help_text="The wording of the ban notice the account received.")
    external_id = serializers.CharField(
        max_length=100, allow_blank=True, required=False, default="",
        help_text="The enforcement system's own id of the incident: a second push with it answers 200 with "
                  "the incident already recorded, creating nothing.",
    )

    def validate_banned_at(self, value):
        if value > timezone.now() + timedelta(minutes=5):
            raise serializers.ValidationError(_("The time of the ban cannot be in the future."))
        if value < EARLIEST_BAN:
            raise serializers.ValidationError(_("The time of the ban is implausibly early."))
        return value


class PushedIncidentOutput(serializers.Serializer):
    id = serializers.IntegerField(source="incident_id", read_only=True, help_text="The ban incident's id.")
    external_id = serializers.CharField(read_only=True)
    source = serializers.SerializerMethodField()
    pushed_at = serializers.DateTimeField(read_only=True)
    incident = IncidentOutput(read_only=True)
    appeal_reference = serializers.SerializerMethodField(help_text="The appeal filed for it, once there is one.")

    def get_source(self, obj) -> str:
        return services.SOURCE

    def get_appeal_reference(self, obj) -> str | None:
        appeals = sorted(obj.incident.appeals.all(), key=lambda a: a.created_at)
        return appeals[-1].reference if appeals else None


class ServiceAccountOutput(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    name = serializers.CharField(read_only=True)
    username = serializers.CharField(source="user.username", read_only=True)
    enterprises = EnterpriseBriefOutput(many=True, read_only=True)
    active = serializers.BooleanField(source="is_active", read_only=True)
    created_at = serializers.DateTimeField(read_only=True)
    revoked_at = serializers.DateTimeField(read_only=True, allow_null=True)


class ScopeInput(serializers.Serializer):
    enterprises = serializers.ListField(child=serializers.IntegerField(min_value=1), max_length=1000,
                                        help_text="Ids of the enterprises it serves (it may push for these only).")

    def validate_enterprises(self, value):
        found = set(Enterprise.objects.filter(pk__in=value).values_list("pk", flat=True))
        missing = sorted(set(value) - found)
        if missing:
            raise serializers.ValidationError(_("No such enterprise: %(ids)s.") % {"ids": ", ".join(map(str, missing))})
        return sorted(set(value))


class ServiceAccountCreateInput(ScopeInput):
    name = serializers.CharField(max_length=100, help_text="Which system this is, e.g. \"WeCom enforcement, Shanghai\".")


def _errors(*codes: int) -> dict:
    return {code: OpenApiResponse(ErrorOutput) for code in codes}


def _input(serializer_class, request) -> dict:
    serializer = serializer_class(data=request.data, context={"request": request})
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


# --- the push ------------------------------------------------------------------------------


class PushedIncidentListCreateView(APIView):
    pagination_class = Pagination

    @extend_schema(
        tags=["intake"], operation_id="v1_intake_incidents_list",
        summary="The incidents this service account pushed, newest first",
        responses={200: PushedIncidentOutput(many=True), **_errors(401, 404)},
    )
    def get(self, request):
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(selectors.pushed_by(request.user).order_by("-pushed_at", "-id"), request, view=self)
        return paginator.get_paginated_response(PushedIncidentOutput(page, many=True).data)

    @extend_schema(
        tags=["intake"], operation_id="v1_intake_incidents_create",
        summary="Push a ban incident (enforcement system's service account)",
        description=(
            "Records a ban incident of an account of an enterprise this service account serves; the "
            "enterprise admin then finds it ready to appeal, pre-filled. 201 when recorded; 200 when "
            "`external_id` was already pushed (nothing is created). An account outside the enterprises "
            "served, registered or not, is 404. Only service accounts may push (403 otherwise). Send an "
            "`Idempotency-Key`: a retried push then gets the first answer."
        ),
        request=IncidentPushInput,
        responses={201: PushedIncidentOutput, 200: PushedIncidentOutput, **_errors(400, 401, 403, 404)},
    )
    def post(self, request):
        services.service_account_of(request.user)  # 403 before the body is looked at
        data = _input(IncidentPushInput, request)
        pushed, created = services.incident_push(by=request.user, **data)
        pushed = selectors.pushed_by(request.user).get(pk=pushed.pk)
        return Response(PushedIncidentOutput(pushed).data, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)


# --- service accounts (managers) -------------------------------------------------------------


class ServiceAccountListCreateView(APIView):
    pagination_class = Pagination

    @extend_schema(tags=["intake"], operation_id="v1_intake_service_accounts_list", summary="List service accounts (managers)",
                   responses={200: ServiceAccountOutput(many=True), **_errors(401, 404)})
    def get(self, request):
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(selectors.service_accounts_for(request.user), request, view=self)
        return paginator.get_paginated_response(ServiceAccountOutput(page, many=True).data)

    @extend_schema(tags=["intake"], operation_id="v1_intake_service_accounts_create",
                   summary="Create a service account for the enforcement system (managers)",
                   request=ServiceAccountCreateInput,
                   responses={201: ServiceAccountOutput, **_errors(400, 401, 403)})
    def post(self, request):
        data = _input(ServiceAccountCreateInput, request)
        account = services.service_account_create(by=request.user, name=data["name"],
                                                  enterprises=selectors.enterprises_by_ids(data["enterprises"]))
        return Response(ServiceAccountOutput(selectors.service_account_get(user=request.user, pk=account.pk)).data,
                        status=status.HTTP_201_CREATED)


class ServiceAccountDetailView(APIView):
    @extend_schema(tags=["intake"], operation_id="v1_intake_service_accounts_retrieve", summary="One service account (managers)",
                   responses={200: ServiceAccountOutput, **_errors(401, 404)})
    def get(self, request, pk):
        return Response(ServiceAccountOutput(selectors.service_account_get(user=request.user, pk=pk)).data)


class ServiceAccountScopeView(APIView):
    @extend_schema(tags=["intake"], operation_id="v1_intake_service_accounts_scope",
                   summary="Set the enterprises a service account serves (managers)", request=ScopeInput,
                   responses={200: ServiceAccountOutput, **_errors(400, 401, 403, 404)})
    def post(self, request, pk):
        account = selectors.service_account_get(user=request.user, pk=pk)
        data = _input(ScopeInput, request)
        services.service_account_scope(by=request.user, service_account=account,
                                       enterprises=selectors.enterprises_by_ids(data["enterprises"]))
        return Response(ServiceAccountOutput(selectors.service_account_get(user=request.user, pk=pk)).data)


class ServiceAccountRevokeView(APIView):
    @extend_schema(tags=["intake"], operation_id="v1_intake_service_accounts_revoke",
                   summary="Revoke a service account and every token it has (managers)", request=None,
                   responses={200: ServiceAccountOutput, **_errors(401, 403, 404)})
    def post(self, request, pk):
        account = selectors.service_account_get(user=request.user, pk=pk)
        services.service_account_revoke(by=request.user, service_account=account)
        return Response(ServiceAccountOutput(selectors.service_account_get(user=request.user, pk=pk)).data)


class ServiceAccountTokenView(APIView):
    @extend_schema(tags=["intake"], operation_id="v1_intake_service_accounts_token",
                   summary="Issue an API token for a service account (managers; the key is shown once)", request=None,
                   responses={201: TokenOutput, **_errors(400, 401, 403, 404)})
    def post(self, request, pk):
        account = selectors.service_account_get(user=request.user, pk=pk)
        instance, key = services.service_account_token_issue(by=request.user, service_account=account)
        return Response(TokenOutput({"token": key, "token_key": instance.token_key, "expiry": instance.expiry}).data,
                        status=status.HTTP_201_CREATED)


urlpatterns = [
    path("intake/incidents/", PushedIncidentListCreateView.as_view(), name="api-intake-incidents"),
    path("intake/service-accounts/", ServiceAccountListCreateView.as_view(), name="api-intake-service-accounts"),
    path("intake/service-accounts/<int:pk>/", ServiceAccountDetailView.as_view(), name="api-intake-service-account"),
    path("intake/service-accounts/<int:pk>/scope/", ServiceAccountScopeView.as_view(), name="api-intake-service-account-scope"),
    path("intake/service-accounts/<int:pk>/revoke/", ServiceAccountRevokeView.as_view(), name="api-intake-service-account-revoke"),
    path("intake/service-accounts/<int:pk>/tokens/", ServiceAccountTokenView.as_view(), name="api-intake-service-account-tokens"),
]
