"""Messages: the filtered list, one message with its timeline, single sends and resends."""

from django.db.models import F, Q
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from api import services as api_services
from api.errors import Conflict
from api.idempotency import idempotent
from api.permissions import VIEW_REPLY, CanLaunch
from api.schema import IDEMPOTENCY_KEY, errors
from api.serializers.messages import (
    MessageDetailSerializer,
    MessageFilterSerializer,
    MessageSerializer,
    SingleSendSerializer,
)
from api.views.base import ApiView
from iliveit import STAGES
from messaging import services
from messaging.models import Message, MessageState
from messaging.visibility import messages_visible
from reports.message_queries import message_stages

TAGS = ["messages"]


def _detail(message: Message, user) -> dict:
    message._stages = message_stages(message=message)
    # When each change happened at iLiveIt, not when we heard (as the message page orders them).
    message._events = message.events.order_by(F("stage_at").asc(nulls_last=True), "id")
    message._replies = message.replies.all() if user.has_perm(VIEW_REPLY) else None
    return MessageDetailSerializer(message).data


class MessageListView(ApiView):
    permissions_by_method = {"POST": [CanLaunch]}
    serializer_class = MessageSerializer

    def get_queryset(self):
        filters = self.query(MessageFilterSerializer)
        # Bodies can hold one-time PINs and are never listed.
        messages = messages_visible(self.request.user).defer("body")
        if "campaign" in filters:
            messages = messages.filter(campaign_id=filters["campaign"])
        if filters.get("state"):
            messages = messages.filter(state=filters["state"])
        if filters.get("network"):
            messages = messages.filter(network=filters["network"])
        if filters.get("recipient"):
            messages = messages.filter(recipient__istartswith=filters["recipient"])
        if filters.get("single") is not None:
            messages = messages.filter(is_single=filters["single"])
        if "failure_code" in filters:
            any_stage = Q()
            for stage in STAGES:
                any_stage |= Q(**{f"{stage}_code": filters["failure_code"]})
            messages = messages.filter(any_stage, state=MessageState.FAILED)
        return messages

    @extend_schema(
        tags=TAGS,
        summary="List messages",
        parameters=[MessageFilterSerializer],
        responses={200: MessageSerializer(many=True), **errors(400, 404)},
    )
    def get(self, request):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(MessageSerializer(page, many=True).data)

    @extend_schema(
        tags=TAGS,
        summary="Send one message (SMS or email), outside any recipient list",
        description=(
            "Answers 202 at once: a worker submits the message to iLiveIt. Read the message "
            "until `iliveit_id` (iLiveIt's MessageID) is set. A recipient who opted out of "
            "the application answers 409 with the reason, unless `transactional` is true."
        ),
        request=SingleSendSerializer,
        parameters=[IDEMPOTENCY_KEY],
        responses={202: MessageSerializer, **errors(400, 409, 415, 422)},
    )
    @idempotent
    def post(self, request):
        serializer = SingleSendSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        try:
            application = api_services.single_send_application(
                user=request.user, application_id=data.get("application")
            )
            message = api_services.single_send(
                application=application,
                channel=data["channel"],
                recipient=data["recipient"],
                content=serializer.content(),
                campaign_name=data["campaign_name"],
                transactional=data["transactional"],
            )
        except api_services.ContentInvalid as error:
            raise ValidationError(error.fields) from None
        except services.RecipientOptedOut as error:
            raise Conflict(str(error)) from None
        except services.CampaignError as error:
            raise ValidationError([str(error)]) from None
        return Response(MessageSerializer(message).data, status=status.HTTP_202_ACCEPTED)


class MessageObjectView(ApiView):
    def get_queryset(self):
        return messages_visible(self.request.user).select_related("campaign__application")


class MessageDetailView(MessageObjectView):
    @extend_schema(
        tags=TAGS,
        summary="Read a message, its stages, events and replies",
        responses={200: MessageDetailSerializer, **errors(404)},
    )
    def get(self, request, pk: int):
        return Response(_detail(self.get_object(), request.user))


class MessageResendView(MessageObjectView):
    permissions_by_method = {"POST": [CanLaunch]}

    @extend_schema(
        tags=TAGS,
        summary="Resend a message through iLiveIt's message/resend",
        description="The resend is a new message, linked to the original by `resent_from`.",
        request=None,
        parameters=[IDEMPOTENCY_KEY],
        responses={201: MessageDetailSerializer, **errors(404, 409, 415, 422)},
    )
    @idempotent
    def post(self, request, pk: int):
        message = self.get_object()
        try:
            copy = services.message_resend(message=message, user=request.user)
        except services.CampaignError as error:
            raise Conflict(str(error)) from None
        return Response(_detail(copy, request.user), status=status.HTTP_201_CREATED)
