"""REST endpoints for accounts, incidents and appeals, and the token login.

Every view is thin: read through a user-scoped selector (another tenant's object is
404), validate the body with an Input serializer, call one service, answer with an
Output serializer. Rules live in the services and the workflow, not here.
"""

from django.conf import settings
from django.contrib.auth import authenticate, user_logged_in
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from knox.models import AuthToken
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import APIView

from appeals.core import selectors
from appeals.core.api import auth as _auth  # noqa: F401  (registers the OpenAPI security scheme)
from appeals.core.api import serializers as s
from appeals.core.api.filters import AccountFilter, AppealFilter, IncidentFilter
from appeals.core.services import appeals as appeal_services
from appeals.core.services import auth as auth_services
from appeals.core.services import enterprises as enterprise_services
from appeals.shared.exceptions import PermissionDenied, RateLimited, ValidationFailed
from appeals.shared.throttling import ScopedRateThrottle


def _input(serializer_class, request, *, partial: bool = False) -> dict:
    serializer = serializer_class(data=request.data, partial=partial, context={"request": request})
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


def _require_enterprise_admin(user) -> None:
    """Filing and editing belong to the enterprise side; the desk only reads and decides."""
    if not user.is_enterprise_admin:
        raise PermissionDenied(_("Only an enterprise admin may do this."), code="enterprise_admin_only")


def _errors(*codes: int) -> dict:
    return {code: OpenApiResponse(s.ErrorOutput) for code in codes}


READ_ERRORS = _errors(401, 404)
LIST_ERRORS = _errors(400, 401, 404)  # a bad filter value; a page past the end
WRITE_ERRORS = _errors(400, 401, 403, 404)
VERB_ERRORS = _errors(400, 401, 403, 404, 409)


# --- accounts ----------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(summary="List messaging accounts", responses={200: s.AccountOutput(many=True), **LIST_ERRORS}),
    retrieve=extend_schema(summary="One messaging account", responses={200: s.AccountOutput, **READ_ERRORS}),
    create=extend_schema(summary="Register a messaging account of your enterprise", request=s.AccountCreateInput,
                         responses={201: s.AccountOutput, **WRITE_ERRORS}),
    update=extend_schema(summary="Update an account's display name and type", request=s.AccountUpdateInput,
                         responses={200: s.AccountOutput, **WRITE_ERRORS}),
    partial_update=extend_schema(summary="Update an account's display name or type", request=s.AccountUpdateInput,
                                 responses={200: s.AccountOutput, **WRITE_ERRORS}),
)
@extend_schema(tags=["accounts"])
class AccountViewSet(viewsets.GenericViewSet):
    serializer_class = s.AccountOutput
    filterset_class = AccountFilter

    def get_queryset(self):
        return selectors.accounts_for(self.request.user).order_by("display_name", "id")

    def get_object(self):
        return selectors.account_get(user=self.request.user, pk=self.kwargs["pk"])

    def list(self, request):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(s.AccountOutput(page, many=True).data)

    def retrieve(self, request, pk=None):
        return Response(s.AccountOutput(self.get_object()).data)

    def create(self, request):
        _require_enterprise_admin(request.user)
        data = _input(s.AccountCreateInput, request)
        account = enterprise_services.account_create(by=request.user, enterprise=request.user.enterprise, **data)
        account = selectors.account_get(user=request.user, pk=account.pk)
        return Response(s.AccountOutput(account).data, status=status.HTTP_201_CREATED)

    def update(self, request, pk=None):
        account = self.get_object()
        _require_enterprise_admin(request.user)
        data = _input(s.AccountUpdateInput, request, partial=request.method == "PATCH")
        account = enterprise_services.account_update(account=account, by=request.user, **data)
        return Response(s.AccountOutput(selectors.account_get(user=request.user, pk=account.pk)).data)

    def partial_update(self, request, pk=None):
        return self.update(request, pk)


# --- incidents ---------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(summary="List ban incidents", responses={200: s.IncidentOutput(many=True), **LIST_ERRORS}),
    retrieve=extend_schema(summary="One ban incident", responses={200: s.IncidentOutput, **READ_ERRORS}),
    create=extend_schema(summary="Record a ban incident on one of your accounts", request=s.IncidentCreateInput,
                         responses={201: s.IncidentOutput, **WRITE_ERRORS}),
    severity=extend_schema(summary="Correct an incident's severity (review desk)", request=s.IncidentSeverityInput,
                           responses={200: s.IncidentOutput, **WRITE_ERRORS}),
)
@extend_schema(tags=["incidents"])
class IncidentViewSet(viewsets.GenericViewSet):
    serializer_class = s.IncidentOutput
    filterset_class = IncidentFilter

    def get_queryset(self):
        return selectors.incidents_for(self.request.user).order_by("-banned_at", "-id")

    def get_object(self):
        return selectors.incident_get(user=self.request.user, pk=self.kwargs["pk"])

    def list(self, request):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(s.IncidentOutput(page, many=True).data)

    def retrieve(self, request, pk=None):
        return Response(s.IncidentOutput(self.get_object()).data)

    def create(self, request):
        _require_enterprise_admin(request.user)
        data = _input(s.IncidentCreateInput, request)
        incident = enterprise_services.incident_create(by=request.user, **data)
        incident = selectors.incident_get(user=request.user, pk=incident.pk)
        return Response(s.IncidentOutput(incident).data, status=status.HTTP_201_CREATED)

    @action(detail=True, methods=["post"], filter_backends=[], pagination_class=None)
    def severity(self, request, pk=None):
        incident = self.get_object()
        data = _input(s.IncidentSeverityInput, request)
        incident = enterprise_services.incident_set_severity(incident=incident, by=request.user, severity=data["severity"])
        return Response(s.IncidentOutput(selectors.incident_get(user=request.user, pk=incident.pk)).data)


# --- appeals -----------------------------------------------------------------------------


def _verb_schema(summary: str, request=None, description: str = ""):
    return extend_schema(summary=summary, description=description, request=request,
                         responses={200: s.AppealDetailOutput, **VERB_ERRORS})


@extend_schema_view(
    list=extend_schema(summary="List appeals", responses={200: s.AppealListOutput(many=True), **LIST_ERRORS}),
    retrieve=extend_schema(summary="One appeal with its incident, account, prior incidents and your available actions",
                           responses={200: s.AppealDetailOutput, **READ_ERRORS}),
    create=extend_schema(summary="File a draft appeal", request=s.AppealCreateInput,
                         responses={201: s.AppealDetailOutput, **WRITE_ERRORS}),
    partial_update=extend_schema(summary="Edit a draft's statement or contact phone", request=s.AppealUpdateInput,
                                 responses={200: s.AppealDetailOutput, **VERB_ERRORS}),
    timeline=extend_schema(summary="The appeal's timeline, oldest first",
                           responses={200: s.AppealEventOutput(many=True), **READ_ERRORS}),
    submit=_verb_schema("Submit a draft", request=None),
    withdraw=_verb_schema("Withdraw the appeal (before a decision)", request=s.CommentInput),
    resubmit=_verb_schema("Resubmit after a request for information", request=s.CommentInput),
    claim=_verb_schema("Claim the case for the review stage it is in", request=None),
    first_review=_verb_schema("First review: recommend approve or reject, request information, or escalate",
                              request=s.FirstReviewInput,
                              description="A comment is required for reject, request_info and escalate."),
    second_review=_verb_schema("Second review: approve, reject, or return to first review", request=s.SecondReviewInput,
                               description="Must be a different person from the first reviewer. "
                                           "A comment is required for reject and return."),
    decide=_verb_schema("Manager's decision on an escalated case", request=s.ManagerDecisionInput),
    reassign=_verb_schema("Manager hands the case to another reviewer", request=s.ReassignInput),
)
@extend_schema(tags=["appeals"])
class AppealViewSet(viewsets.GenericViewSet):
    lookup_field = "reference"
    lookup_value_regex = r"[^/]+"
    serializer_class = s.AppealDetailOutput
    filterset_class = AppealFilter
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self):
        return selectors.appeals_for(self.request.user).order_by("-created_at", "-id")

    def get_object(self):
        return selectors.appeal_get(user=self.request.user, reference=self.kwargs["reference"])

    def _detail(self, appeal, status_code=status.HTTP_200_OK) -> Response:
        # Re-read through the selector: the answer is what this user may see, fully joined.
        appeal = selectors.appeal_get(user=self.request.user, reference=appeal.reference)
        return Response(s.AppealDetailOutput(appeal, context={"request": self.request}).data, status=status_code)

    def list(self, request):
        # The lean path: filtered, then read as plain values (see selectors.appeal_list_for).
        # Counted and paged on the appeal table alone (ids, by the list's index); the page's rows
        # are then read with their joins by primary key.
        # A page near the top (the common case) is one query: the joined rows, ordered and sliced
        # by the list's index. A deep page reads its ids first (an index-only walk past the
        # offset), then the joined rows of those ids.
        # The plain list (no filter, no search: most requests) is the same statement for every
        # user of a tenant scope, compiled once per process (selectors.appeal_list_page).
        # That statement and the count's estimate are found by key; the queryset is then never
        # built (hence the callables).
        user = request.user
        if self._unfiltered():
            def filtered():
                return selectors.appeal_list_for(user)

            page = self.paginator.page_of(lambda: filtered().values_list("pk", flat=True), request, self,
                                          count_key=("appeal-list", selectors.tenant_scope(user)))
            unfiltered_for = user
        else:
            filtered = self.filter_queryset(selectors.appeal_list_for(user))
            page = self.paginator.page_of(filtered.values_list("pk", flat=True), request, self)
            unfiltered_for = None
        if page.top <= settings.PAGINATION_SINGLE_QUERY_DEPTH:
            rows = selectors.appeal_list_page(filtered, page.bottom, page.top, unfiltered_for=unfiltered_for)
        else:
            ids = list(page.object_list)
            by_id = selectors.appeal_list_rows(ids)
            rows = [by_id[pk] for pk in ids if pk in by_id]
        page.object_list = rows  # what has_next() looks at past an estimated count: not read again
        return self.get_paginated_response(s.appeal_list_rows_output(rows))

    def _unfiltered(self) -> bool:
        return not any(name in self.request.query_params for name in AppealFilter.base_filters)

    def filter_queryset(self, queryset):
        # No filter asked for (the plain list, most requests): skip building the filter form.
        if self.action == "list" and self._unfiltered():
            return queryset
        return super().filter_queryset(queryset)

    def retrieve(self, request, reference=None):
        return self._detail(self.get_object())

    def create(self, request):
        _require_enterprise_admin(request.user)
        data = _input(s.AppealCreateInput, request)
        appeal = appeal_services.appeal_create(by=request.user, **data)
        return self._detail(appeal, status.HTTP_201_CREATED)

    def partial_update(self, request, reference=None):
        appeal = self.get_object()
        _require_enterprise_admin(request.user)
        data = _input(s.AppealUpdateInput, request, partial=True)
        return self._detail(appeal_services.appeal_update_draft(appeal=appeal, by=request.user, **data))

    @action(detail=True, methods=["get"], filter_backends=[], pagination_class=None)
    def timeline(self, request, reference=None):
        events = selectors.appeal_timeline(appeal=self.get_object())
        return Response(s.AppealEventOutput(events, many=True).data)

    @action(detail=True, methods=["post"], filter_backends=[], pagination_class=None)
    def submit(self, request, reference=None):
        return self._detail(appeal_services.appeal_submit(appeal=self.get_object(), by=request.user))

    @action(detail=True, methods=["post"], filter_backends=[], pagination_class=None)
    def withdraw(self, request, reference=None):
        appeal = self.get_object()
        data = _input(s.CommentInput, request)
        return self._detail(appeal_services.appeal_withdraw(appeal=appeal, by=request.user, **data))

    @action(detail=True, methods=["post"], filter_backends=[], pagination_class=None)
    def resubmit(self, request, reference=None):
        appeal = self.get_object()
        data = _input(s.CommentInput, request)
        return self._detail(appeal_services.appeal_resubmit(appeal=appeal, by=request.user, **data))

    @action(detail=True, methods=["post"], filter_backends=[], pagination_class=None)
    def claim(self, request, reference=None):
        return self._detail(appeal_services.appeal_claim(appeal=self.get_object(), by=request.user))

    @action(detail=True, methods=["post"], url_path="first-review", filter_backends=[], pagination_class=None)
    def first_review(self, request, reference=None):
        appeal = self.get_object()
        data = _input(s.FirstReviewInput, request)
        return self._detail(appeal_services.appeal_first_review(appeal=appeal, by=request.user, **data))

    @action(detail=True, methods=["post"], url_path="second-review", filter_backends=[], pagination_class=None)
    def second_review(self, request, reference=None):
        appeal = self.get_object()
        data = _input(s.SecondReviewInput, request)
        return self._detail(appeal_services.appeal_second_review(appeal=appeal, by=request.user, **data))

    @action(detail=True, methods=["post"], filter_backends=[], pagination_class=None)
    def decide(self, request, reference=None):
        appeal = self.get_object()
        data = _input(s.ManagerDecisionInput, request)
        return self._detail(appeal_services.appeal_decide_escalated(appeal=appeal, by=request.user, **data))

    @extend_schema(
        summary="Precedents: the most similar decided cases, ranked (review desk only)",
        description="Decided cases (any enterprise) ranked by similarity to this one: same incident kind +3, same reason +2, "
                    "overlapping risk flags +2×Jaccard, the same account's earlier cases +1; top 5, best first. Reviewers "
                    "and managers only: an enterprise admin gets 403 permission_denied (precedents span enterprises).",
        responses={200: s.PrecedentOutput(many=True), **_errors(401, 403, 404)},
    )
    @action(detail=True, methods=["get"], filter_backends=[], pagination_class=None)
    def precedents(self, request, reference=None):
        from django.utils.translation import get_language

        from appeals.core.precedents import may_see_precedents, precedents_for

        if not may_see_precedents(request.user):
            raise PermissionDenied(_("Precedents are for the review desk."))
        rows = precedents_for(user=request.user, appeal=self.get_object())
        zh = (get_language() or "").lower().startswith("zh")
        for row in rows:
            row["outcome_label"] = row["outcome_label_zh"] if zh else row["outcome_label_en"]
            row["decision_reason"] = row["decision_reason_zh"] if zh else row["decision_reason_en"]
        return Response(s.PrecedentOutput(rows, many=True).data)

    @action(detail=True, methods=["post"], filter_backends=[], pagination_class=None)
    def reassign(self, request, reference=None):
        appeal = self.get_object()
        data = _input(s.ReassignInput, request)
        return self._detail(appeal_services.appeal_reassign(appeal=appeal, by=request.user, **data))


# --- outcome codes -------------------------------------------------------------------------


class OutcomeCodeList(viewsets.ViewSet):
    """The catalogue of outcome codes a final decision must name (appeals.core.decisions)."""

    @extend_schema(summary="The active outcome codes, in catalogue order", tags=["appeals"],
                   responses={200: s.OutcomeCodeOutput(many=True), **_errors(401)})
    def list(self, request):
        from django.utils.translation import get_language

        from appeals.core.decisions import catalogue_for

        return Response(s.OutcomeCodeOutput(catalogue_for(get_language() or ""), many=True).data)


# --- auth --------------------------------------------------------------------------------


class TokenRateThrottle(ScopedRateThrottle):
    """A plain request-rate ceiling on the token endpoint per client address ("token" rate).

    Password guessing itself is bounded per account and per address by login protection
    (django-axes, appeals.shared.login_guard), which authenticate() consults.
    """


class TokenView(APIView):
    authentication_classes = []
    permission_classes = [AllowAny]
    throttle_classes = [TokenRateThrottle]
    throttle_scope = "token"
    parser_classes = api_settings.DEFAULT_PARSER_CLASSES  # JSON (ObtainAuthToken also takes forms)

    @extend_schema(
        summary="Exchange a username and password for an API token",
        description=(
            "The token expires at `expiry` and is revoked by POST /api/v1/auth/logout/, by a password "
            "change, or by DELETE /api/v1/auth/tokens/{token_key}/. Repeated wrong passwords are refused "
            "with 429 per account and address, and per address (login protection)."
        ),
        request=s.TokenLoginInput,
        responses={200: s.TokenOutput, 400: OpenApiResponse(s.ErrorOutput), 429: OpenApiResponse(s.ErrorOutput)},
        auth=[],
        tags=["auth"],
    )
    def post(self, request, *args, **kwargs):
        data = _input(s.TokenLoginInput, request)
        # The request goes to authenticate() so login protection (django-axes) sees the address.
        user = authenticate(request=request, username=data["username"], password=data["password"])
        if getattr(request, "axes_locked_out", False):
            raise RateLimited(_("Too many failed sign-in attempts from here. Try again later."), code="throttled",
                              retry_after=int(settings.AXES_COOLOFF_TIME.total_seconds()))
        if user is None or not user.is_active:
            raise ValidationFailed(_("Invalid input."),
                                   fields={"non_field_errors": [str(_("Unable to log in with provided credentials."))]})
        instance, key = auth_services.token_issue(user=user)
        user_logged_in.send(sender=user.__class__, request=request, user=user)
        return Response({"token": key, "token_key": instance.token_key, "expiry": instance.expiry})


class LogoutView(APIView):
    @extend_schema(
        summary="Revoke the token this request is authenticated with",
        request=None,
        responses={204: None, 400: OpenApiResponse(s.ErrorOutput), 401: OpenApiResponse(s.ErrorOutput)},
        tags=["auth"],
    )
    def post(self, request, *args, **kwargs):
        if not hasattr(request.auth, "token_key"):
            raise ValidationFailed(_("Only a token can be logged out here; a session logs out on the site."),
                                   code="not_a_token")
        auth_services.token_logout(token=request.auth)
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema_view(
    list=extend_schema(summary="Your live API tokens", tags=["auth"]),
    destroy=extend_schema(summary="Revoke one of your API tokens", tags=["auth"],
                          responses={204: None, 404: OpenApiResponse(s.ErrorOutput)}),
)
class TokenViewSet(viewsets.GenericViewSet):
    """The signed-in user's own tokens: list them (never the keys), revoke any of them."""

    serializer_class = s.TokenListOutput
    lookup_field = "token_key"
    lookup_value_regex = "[A-Za-z0-9_-]{1,25}"
    pagination_class = None

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation: no user
            return AuthToken.objects.none()
        return auth_services.tokens_of(self.request.user)

    def list(self, request, *args, **kwargs):
        return Response(self.get_serializer(self.get_queryset(), many=True).data)

    def destroy(self, request, token_key=None, *args, **kwargs):
        auth_services.token_revoke(by=request.user, token_key=token_key)
        return Response(status=status.HTTP_204_NO_CONTENT)
