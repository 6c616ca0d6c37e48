"""The opt-out list of an application: read, add an entry, remove one.

Grants and roles as for campaigns: every role reads the lists of the applications it is
granted, composers add, admins remove (as on the pages). An application or entry outside the
user's grants answers 404. Every change goes through messaging.optouts, which audits it.
"""

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.response import Response

from api.idempotency import idempotent
from api.permissions import CanAddOptOuts, CanRemoveOptOuts, CanViewOptOuts
from api.schema import IDEMPOTENCY_KEY, errors
from api.serializers.opt_outs import (
    OptOutCreateSerializer,
    OptOutFilterSerializer,
    OptOutSerializer,
)
from api.views.base import ApiView
from messaging.models import Application, OptOutSource
from messaging.optout_lists import opt_outs_filter
from messaging.optouts import opt_out_record, opt_out_remove
from messaging.recipients.normalise import InvalidRecipient, normalise_any_recipient
from messaging.visibility import applications_visible, opt_outs_visible

TAGS = ["opt-outs"]


def _application(user, application_id: int) -> Application:
    application = applications_visible(user).filter(pk=application_id).first()
    if application is None:
        raise NotFound(f"No application {application_id} among those you are granted.")
    return application


class OptOutListView(ApiView):
    permissions_by_method = {"GET": [CanViewOptOuts], "POST": [CanAddOptOuts]}
    serializer_class = OptOutSerializer

    def get_queryset(self):
        filters = self.query(OptOutFilterSerializer)
        application = _application(self.request.user, filters["application"])
        # The staff page's search: part of a recipient, or the whole of one as typed.
        return opt_outs_filter(application=application, text=filters.get("search", ""))

    @extend_schema(
        tags=TAGS,
        summary="List an application's opt-outs",
        description="Newest first, in cursor pages.",
        parameters=[OptOutFilterSerializer],
        responses={200: OptOutSerializer(many=True), **errors(400, 404)},
    )
    def get(self, request):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(OptOutSerializer(page, many=True).data)

    @extend_schema(
        tags=TAGS,
        summary="Opt a recipient out of an application",
        description=(
            "The recipient is normalised as messages' recipients are: an address as for email, "
            "anything else as a phone number. Answers 201 with the new entry, or 200 with the "
            "entry already there (its first source and time are kept)."
        ),
        request=OptOutCreateSerializer,
        parameters=[IDEMPOTENCY_KEY],
        responses={
            200: OptOutSerializer,
            201: OptOutSerializer,
            **errors(400, 404, 409, 415, 422),
        },
    )
    @idempotent
    def post(self, request):
        serializer = OptOutCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        application = _application(request.user, data["application"])
        try:
            recipient = normalise_any_recipient(data["recipient"])
        except InvalidRecipient as error:
            raise ValidationError({"recipient": [error.reason]}) from None
        entry, new = opt_out_record(
            application=application,
            recipient=recipient,
            source=OptOutSource.MANUAL,
            reason="added through the API",
            user=request.user,
        )
        answer = status.HTTP_201_CREATED if new else status.HTTP_200_OK
        return Response(OptOutSerializer(entry).data, status=answer)


class OptOutDetailView(ApiView):
    permissions_by_method = {"DELETE": [CanRemoveOptOuts]}

    def get_queryset(self):
        return opt_outs_visible(self.request.user)

    @extend_schema(
        tags=TAGS,
        summary="Remove an opt-out: the recipient may be sent to again",
        description="Admins only, as on the pages.",
        request=None,
        responses={204: None, **errors(404)},
    )
    def delete(self, request, pk: int):
        opt_out_remove(
            opt_out=self.get_object(), user=request.user, reason="removed through the API"
        )
        return Response(status=status.HTTP_204_NO_CONTENT)
