"""The applications, campaigns and messages a user may see: their grants, through
access.rules.scoped. Every page and the API start their querysets here."""

from django.db.models import QuerySet

from access.rules import scoped
from messaging.models import Application, Campaign, Message, OptOut


def applications_visible(user) -> QuerySet[Application]:
    return scoped(Application.objects.all(), user)


def campaigns_visible(user) -> QuerySet[Campaign]:
    return scoped(Campaign.objects.all(), user, to_application="application")


def messages_visible(user) -> QuerySet[Message]:
    return scoped(Message.objects.all(), user, to_application="campaign__application")


def opt_outs_visible(user) -> QuerySet[OptOut]:
    return scoped(OptOut.objects.all(), user, to_application="application")
