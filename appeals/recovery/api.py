"""The recovery plan over the API (mounted under /api/v1/):

- GET  appeals/<reference>/recovery-plan/                  the plan and its dated steps (404 `recovery_plan_missing` before it is made)
- POST appeals/<reference>/recovery-plan/                  make the plan now, or re-date it
- POST appeals/<reference>/recovery-plan/steps/<id>/       the applicant ticks a step: {"done": true}
- GET  appeals/<reference>/self-check/                     the pre-submit warnings about the latest operation log
- GET/POST recovery/templates/, GET/PATCH/DELETE recovery/templates/<id>/   managers edit the step templates

Texts come in the request's language (Accept-Language or ?language=zh-hans) besides both
languages' fields. Tenancy: another enterprise's case is a 404 (appeals.core.selectors)."""

from django.urls import path
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from appeals.core.api.serializers import ErrorOutput
from appeals.core.models import IncidentKind, Role
from appeals.core.selectors import appeal_get
from appeals.recovery import selectors, selfcheck, services
from appeals.recovery.models import MAX_DAYS, Anchor, RecoveryStep, RecoveryStepTemplate
from appeals.shared.exceptions import NotFound, ValidationFailed

ERRORS = {400: ErrorOutput, 401: ErrorOutput, 403: ErrorOutput, 404: ErrorOutput}
NO_CASE = "No such case for you (`not_found`): another enterprise's case does not exist for you."
PLAN_ERRORS = {**ERRORS, 404: OpenApiResponse(description=NO_CASE + " `recovery_plan_missing`: the plan is not made yet "
                                                   "(it is made on submit, or by POST to this URL).")}
TICK_ERRORS = {**ERRORS,
               400: OpenApiResponse(description="`invalid`: `fields.done` is not a boolean."),
               403: OpenApiResponse(description="`permission_denied`: only the enterprise that filed the appeal ticks."),
               404: OpenApiResponse(description=NO_CASE + " `recovery_step_not_found`: no such step in this case's plan.")}
TEMPLATE_ERRORS = {**ERRORS,
                   400: OpenApiResponse(description="`invalid`: field errors (`kind`, `anchor`, days 0-365, both titles "
                                                    "required; `remind_at_end` needs `duration_days` > 0)."),
                   403: OpenApiResponse(description="`permission_denied`: managers only.")}
LANGUAGE = OpenApiParameter("language", OpenApiTypes.STR, enum=["en", "zh-hans"],
                            description="Language of `title`, `text` and the warnings (default: the request's).")


def _language(request) -> str:
    asked = (request.query_params.get("language") or "").lower()
    return asked if asked in ("en", "zh-hans") else (get_language() or "en")


class IsManager(BasePermission):
    message = _("Only managers may change the recovery step templates.")

    def has_permission(self, request, view):
        return bool(request.user and request.user.is_authenticated and request.user.has_role(Role.MANAGER))


# --- serializers -------------------------------------------------------------------------------


class StepOutput(serializers.ModelSerializer):
    title = serializers.SerializerMethodField(help_text="The title in the request's language.")
    text = serializers.SerializerMethodField(help_text="The text in the request's language.")
    anchor = serializers.ChoiceField(choices=Anchor.choices, read_only=True)

    class Meta:
        model = RecoveryStep
        fields = ["id", "order", "anchor", "title", "text", "title_en", "title_zh", "text_en", "text_zh", "offset_days",
                  "duration_days", "remind_at_end", "starts_on", "ends_on", "done", "done_at", "reminded_at"]
        read_only_fields = fields
        extra_kwargs = {"starts_on": {"help_text": "Null until the reference point happened (a step after the decision)."},
                        "ends_on": {"help_text": "The day a rest or pause period ends; null for a one-off step."}}

    def get_title(self, step) -> str:
        return step.text("title", self.context.get("language", ""))

    def get_text(self, step) -> str:
        return step.text("text", self.context.get("language", ""))


class PlanOutput(serializers.Serializer):
    reference = serializers.CharField(source="appeal.reference")
    kind = serializers.ChoiceField(choices=IncidentKind.choices)
    created_at = serializers.DateTimeField()
    refreshed_at = serializers.DateTimeField(allow_null=True)
    steps = serializers.SerializerMethodField()

    def get_steps(self, plan) -> StepOutput(many=True):
        return StepOutput(selectors.recovery_steps(plan=plan), many=True, context=self.context).data


class TickInput(serializers.Serializer):
    done = serializers.BooleanField(help_text="true: ticked; false: not done after all.")


class WarningOutput(serializers.Serializer):
    rule = serializers.CharField(help_text="The log rule (mass_add, sensitive_words, location_anomaly, permission, any "
                                           "other a capability adds), or `analysis` for the state of the analysis.")
    text = serializers.CharField()
    count = serializers.IntegerField(allow_null=True)
    day = serializers.CharField(help_text="MM-DD (Asia/Shanghai), or empty.")


class SelfCheckOutput(serializers.Serializer):
    status = serializers.ChoiceField(choices=["none", "pending", "failed", "done"],
                                     help_text="none: no operation log yet; pending: being analysed; failed: unreadable.")
    warnings = WarningOutput(many=True)


class TemplateSerializer(serializers.ModelSerializer):
    """Input and output of a step template; validation only, the view calls the service."""

    kind = serializers.ChoiceField(choices=IncidentKind.choices)
    anchor = serializers.ChoiceField(choices=Anchor.choices, default=Anchor.BAN)
    offset_days = serializers.IntegerField(min_value=0, max_value=MAX_DAYS, default=0)
    duration_days = serializers.IntegerField(min_value=0, max_value=MAX_DAYS, default=0)
    order = serializers.IntegerField(min_value=0, max_value=32767, default=0)

    class Meta:
        model = RecoveryStepTemplate
        fields = ["id", "kind", "order", "anchor", "title_en", "title_zh", "text_en", "text_zh", "offset_days",
                  "duration_days", "remind_at_end", "active", "updated_at"]
        read_only_fields = ["id", "updated_at"]

    def validate(self, attrs):
        duration = attrs.get("duration_days", getattr(self.instance, "duration_days", 0))
        remind = attrs.get("remind_at_end", getattr(self.instance, "remind_at_end", False))
        if remind and not duration:
            raise serializers.ValidationError({"remind_at_end": [_("A reminder needs a period: set the period in days.")]})
        return attrs


# --- the case's plan ---------------------------------------------------------------------------


class PlanApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(operation_id="appeal_recovery_plan", tags=["recovery"], parameters=[LANGUAGE],
                   responses={200: PlanOutput, **PLAN_ERRORS})
    def get(self, request, reference: str):
        """The case's recovery plan with its dated steps; 404 `recovery_plan_missing` before it is made."""
        appeal = appeal_get(user=request.user, reference=reference)
        if not services.may_see(request.user, appeal):
            raise NotFound()
        plan = selectors.recovery_plan_for(appeal=appeal)
        if plan is None:
            raise NotFound(_("This case has no recovery plan yet: it is made when the appeal is submitted."),
                           code="recovery_plan_missing")
        return Response(PlanOutput(plan, context={"language": _language(request)}).data)

    @extend_schema(operation_id="appeal_recovery_plan_build", tags=["recovery"], request=None, parameters=[LANGUAGE],
                   responses={200: PlanOutput, 201: PlanOutput, **ERRORS, 404: OpenApiResponse(description=NO_CASE)})
    def post(self, request, reference: str):
        """Make the plan now from the current step templates (201), or re-date the existing one (200)."""
        appeal = appeal_get(user=request.user, reference=reference)
        existed = selectors.recovery_plan_for(appeal=appeal) is not None
        plan = services.recovery_plan_build(appeal=appeal, by=request.user)
        return Response(PlanOutput(plan, context={"language": _language(request)}).data,
                        status=status.HTTP_200_OK if existed else status.HTTP_201_CREATED)


class StepTickApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(operation_id="appeal_recovery_step_tick", tags=["recovery"], request=TickInput, parameters=[LANGUAGE],
                   responses={200: StepOutput, **TICK_ERRORS})
    def post(self, request, reference: str, step_id: int):
        """The applicant ticks a step (403 for anyone else; 404 `recovery_step_not_found`)."""
        appeal = appeal_get(user=request.user, reference=reference)
        body = TickInput(data=request.data)
        body.is_valid(raise_exception=True)
        step = services.recovery_step_tick(appeal=appeal, by=request.user, step_id=step_id, done=body.validated_data["done"])
        return Response(StepOutput(step, context={"language": _language(request)}).data)


class SelfCheckApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(operation_id="appeal_self_check", tags=["recovery"], parameters=[LANGUAGE],
                   responses={200: SelfCheckOutput, **ERRORS, 404: OpenApiResponse(description=NO_CASE)})
    def get(self, request, reference: str):
        """What the case's latest operation log shows, as warnings to explain in the statement (never a blocker)."""
        appeal = appeal_get(user=request.user, reference=reference)
        return Response(selfcheck.self_check(appeal=appeal, language=_language(request)).as_dict())


# --- the managers' templates -------------------------------------------------------------------


class TemplateListApi(APIView):
    permission_classes = [IsManager]

    @extend_schema(operation_id="recovery_templates", tags=["recovery"], responses={200: TemplateSerializer(many=True), **TEMPLATE_ERRORS},
                   parameters=[OpenApiParameter("kind", OpenApiTypes.STR, enum=IncidentKind.values)])
    def get(self, request):
        kind = request.query_params.get("kind") or None
        if kind and kind not in IncidentKind.values:
            raise ValidationFailed(fields={"kind": [_("Unknown incident kind.")]})
        return Response(TemplateSerializer(selectors.recovery_templates(user=request.user, kind=kind), many=True).data)

    @extend_schema(operation_id="recovery_template_create", tags=["recovery"], request=TemplateSerializer,
                   responses={201: TemplateSerializer, **TEMPLATE_ERRORS})
    def post(self, request):
        body = TemplateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        template = services.recovery_template_save(by=request.user, template=None, **body.validated_data)
        return Response(TemplateSerializer(template).data, status=status.HTTP_201_CREATED)


class TemplateDetailApi(APIView):
    permission_classes = [IsManager]

    @extend_schema(operation_id="recovery_template", tags=["recovery"], responses={200: TemplateSerializer, **TEMPLATE_ERRORS})
    def get(self, request, pk: int):
        return Response(TemplateSerializer(selectors.recovery_template_get(user=request.user, pk=pk)).data)

    @extend_schema(operation_id="recovery_template_update", tags=["recovery"], request=TemplateSerializer(partial=True),
                   responses={200: TemplateSerializer, **TEMPLATE_ERRORS})
    def patch(self, request, pk: int):
        """Change texts (both languages), periods, order, reminder or active; applies to plans made afterwards."""
        template = selectors.recovery_template_get(user=request.user, pk=pk)
        body = TemplateSerializer(template, data=request.data, partial=True)
        body.is_valid(raise_exception=True)
        template = services.recovery_template_save(by=request.user, template=template, **body.validated_data)
        return Response(TemplateSerializer(template).data)

    @extend_schema(operation_id="recovery_template_delete", tags=["recovery"], responses={204: None, **TEMPLATE_ERRORS})
    def delete(self, request, pk: int):
        """Remove a template; plans already made keep their copy of the step."""
        template = selectors.recovery_template_get(user=request.user, pk=pk)
        services.recovery_template_delete(by=request.user, template=template)
        return Response(status=status.HTTP_204_NO_CONTENT)


urlpatterns = [
    path("appeals/<str:reference>/recovery-plan/", PlanApi.as_view(), name="api-recovery-plan"),
    path("appeals/<str:reference>/recovery-plan/steps/<int:step_id>/", StepTickApi.as_view(), name="api-recovery-step-tick"),
    path("appeals/<str:reference>/self-check/", SelfCheckApi.as_view(), name="api-recovery-self-check"),
    path("recovery/templates/", TemplateListApi.as_view(), name="api-recovery-templates"),
    path("recovery/templates/<int:pk>/", TemplateDetailApi.as_view(), name="api-recovery-template"),
]
