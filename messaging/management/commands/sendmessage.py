import time

from django.core.management.base import BaseCommand, CommandError

from messaging.models import Application, Channel, Message
from messaging.recipients.normalise import InvalidRecipient, normalise_recipient
from messaging.services import (
    CampaignError,
    application_default,
    message_send_single,
    message_submit,
)
from messaging.states import TERMINAL


class Command(BaseCommand):
    help = "Queue one message and print its portal id (with --wait, iLiveIt's MessageID too)."

    def add_arguments(self, parser):
        parser.add_argument("--channel", required=True, choices=["sms", "email", "mms"])
        parser.add_argument("--to", required=True, help="MSISDN or email address")
        parser.add_argument("--text", default="", help="SMS text, or the email's text body")
        parser.add_argument("--subject", default="")
        parser.add_argument("--html", default="", help="The email's HTML body")
        parser.add_argument("--campaign", default="", help="Campaign name to file it under")
        parser.add_argument("--application", default="", help="Application name")
        parser.add_argument("--wait", action="store_true", help="Wait until it is submitted")
        parser.add_argument(
            "--transactional",
            action="store_true",
            help="Send even to a recipient who opted out (one-time PINs, receipts); recorded",
        )
        parser.add_argument(
            "--inline", action="store_true", help="Submit from this process, without a worker"
        )
        parser.add_argument("--timeout", type=float, default=60.0, help="Seconds --wait waits")

    def handle(self, *args, **options):
        try:
            recipient = normalise_recipient(options["to"], channel=options["channel"])
            application = self._application(options["application"])
            message = message_send_single(
                application=application,
                channel=Channel(options["channel"]),
                recipient=recipient,
                content={
                    "body_text": options["text"],
                    "subject": options["subject"],
                    "body_html": options["html"],
                },
                campaign_name=options["campaign"],
                enqueue=not options["inline"],
                transactional=options["transactional"],
            )
        except (InvalidRecipient, CampaignError) as error:
            raise CommandError(str(error)) from None
        self.stdout.write(str(message.pk))
        if options["inline"]:
            self._submit_inline(message)
        if options["wait"] or options["inline"]:
            self._report(self._wait(message, options["timeout"]))

    def _submit_inline(self, message: Message) -> None:
        """The worker's loop for one message: retry what is temporary, after its delay."""
        while True:
            outcome = message_submit(message_id=message.pk)
            if not outcome.retry_in:
                return
            time.sleep(outcome.retry_in)

    def _application(self, name: str) -> Application:
        if not name:
            return application_default()
        try:
            return Application.objects.get(name=name)
        except Application.DoesNotExist:
            raise CommandError(f"No application is named {name!r}.") from None

    def _wait(self, message: Message, timeout: float) -> Message:
        deadline = time.monotonic() + timeout
        while True:
            message.refresh_from_db()
            if message.iliveit_id or message.state in TERMINAL:
                return message
            if time.monotonic() > deadline:
                raise CommandError(
                    f"Message {message.pk} is still {message.state} after {timeout:.0f}s."
                )
            time.sleep(0.2)

    def _report(self, message: Message) -> None:
        if message.iliveit_id:
            self.stdout.write(message.iliveit_id)
            return
        raise CommandError(f"Message {message.pk} {message.state}: {message.last_error}")
