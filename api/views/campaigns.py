"""Campaigns: list, create, read, stats, recipients, and the launch controls.

Thin on purpose: serializers validate, api.services and messaging.services act, and a
service's CampaignError becomes a 409 with its reason.
"""

from django.db.models import Model
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.response import Response

from api import services as api_services
from api.errors import Conflict
from api.idempotency import idempotent
from api.permissions import CanCompose, CanLaunch
from api.schema import IDEMPOTENCY_KEY, errors
from api.serializers.campaigns import (
    CampaignCreatedSerializer,
    CampaignCreateSerializer,
    CampaignDetailSerializer,
    CampaignFilterSerializer,
    CampaignSerializer,
    DroppedSerializer,
    HandsetCheckSerializer,
    LaunchSerializer,
    PauseSerializer,
    RecipientsImportSerializer,
    RecipientsInSerializer,
    RetriedSerializer,
)
from api.serializers.stats import CampaignStatsSerializer
from api.views.base import ApiView
from messaging import services
from messaging.costs import campaign_estimate
from messaging.models import Campaign, MessageState
from messaging.visibility import campaigns_visible
from reports.dashboard import campaign_dashboard
from reports.listing import campaign_rows, campaigns_filter

TAGS = ["campaigns"]


def _detail(campaign: Campaign, serializer_class=CampaignDetailSerializer, **extra) -> dict:
    campaign._counts = services.campaign_progress(campaign=campaign)
    campaign._estimate = campaign_estimate(campaign, drafts=campaign._counts[MessageState.DRAFT])
    for name, value in extra.items():
        setattr(campaign, f"_{name}", value)
    progress = {row.campaign.pk: row for row in campaign_rows([campaign])}
    return serializer_class(campaign, context={"progress": progress}).data


class CampaignObjectView(ApiView):
    """A view of one campaign, found among those the user's grants cover (404 otherwise)."""

    def get_queryset(self):
        return campaigns_visible(self.request.user).select_related("application", "created_by")

    def campaign(self) -> Campaign:
        return self.get_object()


class CampaignListView(ApiView):
    permissions_by_method = {"POST": [CanCompose]}
    serializer_class = CampaignSerializer

    def get_queryset(self):
        filters = self.query(CampaignFilterSerializer)
        campaigns = campaigns_visible(self.request.user).select_related("created_by")
        if "application" in filters:
            campaigns = campaigns.filter(application_id=filters["application"])
        return campaigns_filter(
            campaigns,
            text=filters.get("search", "").strip(),
            state=filters.get("state", ""),
            channel=filters.get("channel", ""),
            created_from=filters.get("created_from"),
            created_to=filters.get("created_to"),
        )

    @extend_schema(
        tags=TAGS,
        summary="List campaigns",
        parameters=[CampaignFilterSerializer],
        responses={200: CampaignSerializer(many=True), **errors(400, 404)},
    )
    def get(self, request):
        page = self.paginate_queryset(self.get_queryset())
        progress = {row.campaign.pk: row for row in campaign_rows(page)}
        data = CampaignSerializer(page, many=True, context={"progress": progress}).data
        return self.get_paginated_response(data)

    @extend_schema(
        tags=TAGS,
        summary="Create a campaign",
        description=(
            "Content is checked as the compose page checks it, placeholders included. "
            "`recipients` are added as drafts, each a string or "
            '`{"recipient": "...", "fields": {"first_name": "..."}}`; rejected entries are '
            "listed in `recipients_import`, not refused, and so are fields the content needs "
            "that some recipients lack (`missing_fields`, `warnings`)."
        ),
        request=CampaignCreateSerializer,
        parameters=[IDEMPOTENCY_KEY],
        responses={201: CampaignCreatedSerializer, **errors(400, 409, 415, 422)},
    )
    @idempotent
    def post(self, request):
        serializer = CampaignCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        fields = dict(serializer.validated_data)
        slides = fields.pop("slides", None)
        recipients = fields.pop("recipients", None)
        try:
            created = api_services.campaign_create(
                user=request.user, fields=fields, slides=slides, recipients=recipients
            )
        except api_services.ContentInvalid as error:
            raise ValidationError(error.fields) from None
        data = _detail(
            created.campaign,
            CampaignCreatedSerializer,
            recipients_import=created.recipients,
        )
        return Response(data, status=status.HTTP_201_CREATED)


class CampaignDetailView(CampaignObjectView):
    @extend_schema(
        tags=TAGS,
        summary="Read a campaign",
        responses={200: CampaignDetailSerializer, **errors(404)},
    )
    def get(self, request, pk: int):
        return Response(_detail(self.campaign()))


class CampaignStatsView(CampaignObjectView):
    @extend_schema(
        tags=TAGS,
        summary="A campaign's delivery figures",
        description="Read from the counters the database keeps; never a scan of messages.",
        responses={200: CampaignStatsSerializer, **errors(404)},
    )
    def get(self, request, pk: int):
        figures = campaign_dashboard(campaign_id=self.campaign().pk)
        return Response(CampaignStatsSerializer(figures).data)


class CampaignRecipientsView(CampaignObjectView):
    permissions_by_method = {"POST": [CanCompose]}

    @extend_schema(
        tags=TAGS,
        summary="Add recipients to a draft or scheduled campaign",
        description=(
            "Each recipient a string or an object with its fields for the content's "
            'placeholders: `{"recipient": "0821234567", "fields": {"first_name": "Thandi"}}`.'
        ),
        request=RecipientsInSerializer,
        parameters=[IDEMPOTENCY_KEY],
        responses={200: RecipientsImportSerializer, **errors(400, 404, 409, 415, 422)},
    )
    @idempotent
    def post(self, request, pk: int):
        campaign = self.campaign()
        serializer = RecipientsInSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            result = api_services.campaign_import_recipients(
                campaign=campaign, recipients=serializer.validated_data["recipients"]
            )
        except services.CampaignError as error:
            raise Conflict(str(error)) from None
        return Response(RecipientsImportSerializer(result).data)


class CampaignActionView(CampaignObjectView):
    """POST-only controls: each calls one messaging service."""

    permissions_by_method = {"POST": [CanLaunch]}

    def act(self, function, **arguments) -> Model | int:
        try:
            return function(campaign=self.campaign(), user=self.request.user, **arguments)
        except services.CampaignError as error:
            raise Conflict(str(error)) from None


def _action_schema(summary: str, request=None, response=CampaignDetailSerializer, **extra):
    return extend_schema(
        tags=TAGS,
        summary=summary,
        request=request,
        parameters=[IDEMPOTENCY_KEY],
        responses={200: response, **errors(400, 404, 409, 415, 422)},
        **extra,
    )


class CampaignLaunchView(CampaignActionView):
    @_action_schema(
        "Launch a campaign now, or schedule it",
        request=LaunchSerializer,
        description=(
            "With `canary_size`, only that many are sent until enough are delivered. Refused "
            "(409) while any recipient lacks a field the content uses without a fallback."
        ),
    )
    @idempotent
    def post(self, request, pk: int):
        serializer = LaunchSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        arguments = {k: v for k, v in serializer.validated_data.items() if v is not None}
        return Response(_detail(self.act(services.campaign_launch, **arguments)))


class CampaignPauseView(CampaignActionView):
    @_action_schema("Pause a sending campaign", request=PauseSerializer)
    @idempotent
    def post(self, request, pk: int):
        serializer = PauseSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        reason = serializer.validated_data["reason"]
        return Response(_detail(self.act(services.campaign_pause, reason=reason)))


class CampaignResumeView(CampaignActionView):
    @_action_schema("Resume a paused campaign")
    @idempotent
    def post(self, request, pk: int):
        return Response(_detail(self.act(services.campaign_resume)))


class CampaignCancelView(CampaignActionView):
    @_action_schema("Cancel a campaign for good")
    @idempotent
    def post(self, request, pk: int):
        return Response(_detail(self.act(services.campaign_cancel)))


class CampaignRetryFailedView(CampaignActionView):
    @_action_schema(
        "Queue the campaign's retryable failed messages again", response=RetriedSerializer
    )
    @idempotent
    def post(self, request, pk: int):
        requeued = self.act(services.campaign_retry_failed)
        return Response({"requeued": requeued, "campaign": _detail(self.campaign())})


class CampaignCloneView(CampaignObjectView):
    permissions_by_method = {"POST": [CanCompose]}

    @extend_schema(
        tags=TAGS,
        summary="Clone a campaign: a new draft with its content and settings, no recipients",
        description=(
            'Named "<name> (copy)". Slides (with their media), attachments, template data, the '
            "send window and the one-time PIN flag are copied; recipients, tests and history "
            "are not. Refused (409) for single sends."
        ),
        request=None,
        parameters=[IDEMPOTENCY_KEY],
        responses={201: CampaignDetailSerializer, **errors(404, 409, 422)},
    )
    @idempotent
    def post(self, request, pk: int):
        try:
            clone = services.campaign_clone(campaign=self.campaign(), user=request.user)
        except services.CampaignError as error:
            raise Conflict(str(error)) from None
        return Response(_detail(clone), status=status.HTTP_201_CREATED)


class CampaignRecipientView(CampaignObjectView):
    permissions_by_method = {"DELETE": [CanCompose]}

    @extend_schema(
        tags=TAGS,
        summary="Remove a recipient from a campaign not yet launched",
        description=(
            "The recipient as it was added or as it is stored (0821234567 or 27821234567). "
            "404 when it is not a recipient of the campaign; 409 once the campaign is launched."
        ),
        request=None,
        responses={204: None, **errors(404, 409)},
    )
    def delete(self, request, pk: int, recipient: str):
        campaign = self.campaign()
        message = services.campaign_recipients_matching(campaign=campaign, text=recipient).first()
        if message is None:
            raise NotFound("That is not a recipient of this campaign.")
        try:
            services.campaign_remove_recipient(
                campaign=campaign, message_id=message.pk, user=request.user
            )
        except services.CampaignError as error:
            raise Conflict(str(error)) from None
        return Response(status=status.HTTP_204_NO_CONTENT)


class CampaignHandsetsView(CampaignObjectView):
    permissions_by_method = {"POST": [CanLaunch]}

    @extend_schema(
        tags=TAGS,
        summary="The latest handset check (iLiveIt's scrub) of an MMS or video campaign",
        responses={200: HandsetCheckSerializer, **errors(404)},
    )
    def get(self, request, pk: int):
        summary = services.campaign_scrub_summary(campaign=self.campaign())
        if summary is None:
            raise NotFound("This campaign's handsets have not been checked.")
        return Response(HandsetCheckSerializer(summary).data)

    @extend_schema(
        tags=TAGS,
        summary="Check the handsets of an MMS or video campaign's recipients before launch",
        description=(
            "Scrubs each draft recipient's number within the application's rate limit. Short "
            "lists are checked before the answer (200, state done); longer ones by a worker "
            "(202, state running): GET this URL for progress."
        ),
        request=None,
        parameters=[IDEMPOTENCY_KEY],
        responses={
            200: HandsetCheckSerializer,
            202: HandsetCheckSerializer,
            **errors(404, 409, 422),
        },
    )
    @idempotent
    def post(self, request, pk: int):
        campaign = self.campaign()
        try:
            scrub = services.campaign_scrub_start(campaign=campaign, user=request.user)
        except services.CampaignError as error:
            raise Conflict(str(error)) from None
        summary = services.campaign_scrub_summary(campaign=campaign)
        running = scrub.state == scrub.State.RUNNING
        answer = status.HTTP_202_ACCEPTED if running else status.HTTP_200_OK
        return Response(HandsetCheckSerializer(summary).data, status=answer)


class CampaignDropNoMmsView(CampaignObjectView):
    permissions_by_method = {"POST": [CanCompose]}

    @extend_schema(
        tags=TAGS,
        summary="Remove the recipients whose handset check says they cannot receive MMS",
        request=None,
        parameters=[IDEMPOTENCY_KEY],
        responses={200: DroppedSerializer, **errors(404, 409, 422)},
    )
    @idempotent
    def post(self, request, pk: int):
        campaign = self.campaign()
        try:
            dropped = services.campaign_drop_no_mms(campaign=campaign, user=request.user)
        except services.CampaignError as error:
            raise Conflict(str(error)) from None
        return Response({"dropped": dropped, "campaign": _detail(campaign)})
