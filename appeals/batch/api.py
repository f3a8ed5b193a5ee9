"""Batch review API (under /api/v1/batch/): proposals, groups, recommend, confirm, split, progress.

Desk reviewers only, across every enterprise; an enterprise admin gets 403 on every endpoint.
Error codes (body {detail, code, fields}, appeals/api/errors.py):
- 400 `invalid` (field errors), `outcome_code_required`, `outcome_code_mismatch`, `not_alike`, `not_in_first_review`;
- 403 `permission_denied`: not a reviewer of the needed stage;
- 404 `not_found`: no such group;
- 409 `separation_of_duties` (the recommender confirming or splitting their own group),
  `group_state` (the group is not in the state the action needs), `already_grouped`.
Cases refused one by one during a run (separation of duties per case, changed meanwhile) do not
fail the request: they are listed as skipped members with their code and reason.
"""

from django.urls import path
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.permissions import BasePermission
from rest_framework.response import Response
from rest_framework.views import APIView

from appeals.batch import selectors, services
from appeals.batch.models import BatchGroup, BatchMember, Recommendation
from appeals.core.api.serializers import ErrorOutput


class IsBatchReviewer(BasePermission):
    message = _("Only the review desk may use batch review.")

    def has_permission(self, request, view):
        return selectors.may_batch_review(request.user)


def _errors(**described) -> dict:
    base = {
        401: OpenApiResponse(ErrorOutput, description="Not authenticated."),
        403: OpenApiResponse(ErrorOutput, description="`permission_denied`: not a desk reviewer of the needed stage."),
    }
    return {**base, **{int(k[1:]): OpenApiResponse(ErrorOutput, description=v) for k, v in described.items()}}


_404 = {"e404": "`not_found`: no such group."}
_409 = {"e409": "`separation_of_duties`: the group's recommender may not confirm or split it; "
                "`group_state`: the group is not in the state this action needs."}


class ProposalOut(serializers.Serializer):
    key = serializers.CharField()
    kind = serializers.CharField()
    reason = serializers.CharField()
    banned_from = serializers.DateTimeField()
    banned_to = serializers.DateTimeField()
    risk_rules = serializers.ListField(child=serializers.CharField())
    references = serializers.ListField(child=serializers.CharField())
    size = serializers.IntegerField()
    enterprises = serializers.IntegerField()
    surge_alert = serializers.IntegerField(source="surge_alert.pk", allow_null=True, default=None)


class ProgressOut(serializers.Serializer):
    state = serializers.CharField()
    running = serializers.BooleanField()
    total = serializers.IntegerField()
    done = serializers.IntegerField()
    skipped = serializers.IntegerField()
    pending = serializers.IntegerField()
    percent = serializers.IntegerField()
    started_at = serializers.DateTimeField(allow_null=True)
    finished_at = serializers.DateTimeField(allow_null=True)


class MemberOut(serializers.ModelSerializer):
    reference = serializers.CharField(source="appeal.reference")
    enterprise = serializers.CharField(source="appeal.enterprise.name")
    appeal_state = serializers.CharField(source="appeal.state")

    class Meta:
        model = BatchMember
        fields = ["reference", "enterprise", "appeal_state", "status", "note_code", "note"]
        read_only_fields = fields


class GroupOut(serializers.ModelSerializer):
    created_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    recommended_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    confirmed_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    recommendation = serializers.ChoiceField(choices=Recommendation.choices, allow_blank=True, read_only=True)

    class Meta:
        model = BatchGroup
        fields = ["id", "state", "kind", "reason", "banned_from", "banned_to", "risk_rules", "surge_alert", "created_by",
                  "created_at", "recommendation", "outcome_code", "comment", "recommended_by", "recommended_at",
                  "confirmed_by", "confirmed_at"]
        read_only_fields = fields


class GroupDetailOut(GroupOut):
    members = serializers.SerializerMethodField()
    progress = serializers.SerializerMethodField()

    class Meta(GroupOut.Meta):
        fields = [*GroupOut.Meta.fields, "members", "progress"]
        read_only_fields = fields

    @extend_schema_field(MemberOut(many=True))
    def get_members(self, group) -> list[dict]:
        return MemberOut(selectors.group_members(group=group), many=True).data

    @extend_schema_field(ProgressOut)
    def get_progress(self, group) -> dict:
        return ProgressOut(selectors.batch_progress(group=group)).data


class GroupCreateIn(serializers.Serializer):
    references = serializers.ListField(child=serializers.CharField(max_length=20), min_length=1, max_length=5000)


class RecommendIn(serializers.Serializer):
    recommendation = serializers.ChoiceField(choices=Recommendation.choices)
    outcome_code = serializers.CharField(max_length=40)
    comment = serializers.CharField(max_length=4000)
    exclude = serializers.ListField(child=serializers.CharField(max_length=20), required=False, default=list, max_length=5000)


class SplitIn(serializers.Serializer):
    references = serializers.ListField(child=serializers.CharField(max_length=20), min_length=1, max_length=5000)
    comment = serializers.CharField(max_length=4000, required=False, allow_blank=True, default="")


def _body(serializer_class, request) -> dict:
    body = serializer_class(data=request.data)
    body.is_valid(raise_exception=True)
    return dict(body.validated_data)


class ProposalListApi(APIView):
    permission_classes = [IsBatchReviewer]

    @extend_schema(tags=["batch"], summary="Proposed groups of alike open appeals in first review",
                   responses={200: ProposalOut(many=True), **_errors()})
    def get(self, request):
        return Response(ProposalOut(selectors.batch_proposals(user=request.user), many=True).data)


class GroupListApi(APIView):
    permission_classes = [IsBatchReviewer]

    @extend_schema(tags=["batch"], summary="Batch groups, newest first", responses={200: GroupOut(many=True), **_errors()})
    def get(self, request):
        return Response(GroupOut(selectors.groups_for(request.user)[:200], many=True).data)

    @extend_schema(tags=["batch"], summary="Create a group from a proposal's references", request=GroupCreateIn,
                   responses={201: GroupDetailOut, **_errors(
                       e400="`invalid`, `not_alike`, `not_in_first_review`: field errors on `references`.",
                       e409="`already_grouped`: a case is already in another open group.")})
    def post(self, request):
        group = services.batch_group_create(by=request.user, **_body(GroupCreateIn, request))
        return Response(GroupDetailOut(selectors.group_get(user=request.user, pk=group.pk)).data, status=201)


class GroupDetailApi(APIView):
    permission_classes = [IsBatchReviewer]

    @extend_schema(tags=["batch"], summary="One group with its members and progress",
                   responses={200: GroupDetailOut, **_errors(**_404)})
    def get(self, request, pk):
        return Response(GroupDetailOut(selectors.group_get(user=request.user, pk=pk)).data)


class RecommendApi(APIView):
    permission_classes = [IsBatchReviewer]

    @extend_schema(tags=["batch"], summary="First reviewer: recommend the group (runs in the background)",
                   request=RecommendIn, responses={202: GroupDetailOut, **_errors(
                       e400="`invalid`, `outcome_code_required`, `outcome_code_mismatch`: field errors.", **_404, **_409)})
    def post(self, request, pk):
        group = selectors.group_get(user=request.user, pk=pk)
        services.batch_recommend(by=request.user, group=group, **_body(RecommendIn, request))
        return Response(GroupDetailOut(selectors.group_get(user=request.user, pk=pk)).data, status=202)


class ConfirmApi(APIView):
    permission_classes = [IsBatchReviewer]

    @extend_schema(tags=["batch"], summary="Second reviewer: decide every recommended case (runs in the background)",
                   request=None, responses={202: GroupDetailOut, **_errors(**_404, **_409)})
    def post(self, request, pk):
        group = selectors.group_get(user=request.user, pk=pk)
        services.batch_confirm(by=request.user, group=group)
        return Response(GroupDetailOut(selectors.group_get(user=request.user, pk=pk)).data, status=202)


class SplitApi(APIView):
    permission_classes = [IsBatchReviewer]

    @extend_schema(tags=["batch"], summary="Second reviewer: split cases off for individual review",
                   request=SplitIn, responses={200: GroupDetailOut, **_errors(e400="`invalid`: field errors.", **_404, **_409)})
    def post(self, request, pk):
        group = selectors.group_get(user=request.user, pk=pk)
        services.batch_split(by=request.user, group=group, **_body(SplitIn, request))
        return Response(GroupDetailOut(selectors.group_get(user=request.user, pk=pk)).data)


class ProgressApi(APIView):
    permission_classes = [IsBatchReviewer]

    @extend_schema(tags=["batch"], summary="Progress of the group's background run", responses={200: ProgressOut, **_errors(**_404)})
    def get(self, request, pk):
        return Response(ProgressOut(selectors.batch_progress(group=selectors.group_get(user=request.user, pk=pk))).data)


urlpatterns = [
    path("batch/proposals/", ProposalListApi.as_view(), name="api-batch-proposals"),
    path("batch/groups/", GroupListApi.as_view(), name="api-batch-groups"),
    path("batch/groups/<int:pk>/", GroupDetailApi.as_view(), name="api-batch-group"),
    path("batch/groups/<int:pk>/recommend/", RecommendApi.as_view(), name="api-batch-recommend"),
    path("batch/groups/<int:pk>/confirm/", ConfirmApi.as_view(), name="api-batch-confirm"),
    path("batch/groups/<int:pk>/split/", SplitApi.as_view(), name="api-batch-split"),
    path("batch/groups/<int:pk>/progress/", ProgressApi.as_view(), name="api-batch-progress"),
]
