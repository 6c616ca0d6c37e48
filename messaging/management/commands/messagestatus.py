import json

from django.core.management.base import BaseCommand, CommandError

from iliveit import STAGES
from messaging.models import Message


def message_status_document(message: Message) -> dict:
    stages = {}
    for stage in STAGES:
        code = getattr(message, f"{stage}_code")
        at = getattr(message, f"{stage}_at")
        stages[stage] = {
            "code": code,
            "description": getattr(message, f"{stage}_description"),
            "timestamp": at.isoformat() if at else None,
        }
    return {
        "id": message.pk,
        "message_id": message.iliveit_id,
        "recipient": message.recipient,
        "campaign": message.campaign.name if message.campaign_id else None,
        "state": message.state,
        "attempts": message.attempts,
        "last_error": message.last_error,
        "network": message.network,
        "stages": stages,
        "events": message.events.count(),
    }


class Command(BaseCommand):
    help = "Print a message's state, each stage's code, description and time, as JSON."

    def add_arguments(self, parser):
        parser.add_argument("id", help="The portal's message id, or iLiveIt's MessageID")

    def handle(self, *args, **options):
        key = options["id"]
        found = Message.objects.select_related("campaign").filter(iliveit_id=key).first()
        if found is None and key.isdigit():
            found = Message.objects.select_related("campaign").filter(pk=int(key)).first()
        if found is None:
            raise CommandError(f"No message has the id or MessageID {key!r}.")
        self.stdout.write(json.dumps(message_status_document(found), indent=2))
