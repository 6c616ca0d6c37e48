import os

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from messaging.models import Application, Campaign, Channel, Message

# Sandbox recipients that end in each outcome (see the README's magic recipients).
DEMO_RECIPIENTS = [
    "27820000101",
    "27820000102",
    "27820000103",
    "27000000001",  # delivery fails
    "27000000006",  # the network refuses it
    "27000000009",  # replies STOP
]


class Command(BaseCommand):
    help = (
        "Create the demo admin user, the sandbox application and a draft demo campaign for "
        "local development (DEBUG only)."
    )

    def handle(self, *args, **options):
        if not settings.DEBUG:
            raise CommandError("ensuredemo only runs with DEBUG=1: it creates a known password.")
        self._admin()
        if settings.ILIVEIT_ACCESS_TOKEN and settings.ILIVEIT_MVNO_ID:
            self._demo_campaign(self._application())

    def _admin(self) -> None:
        password = os.environ.get("DEMO_ADMIN_PASSWORD", "admin")
        user, created = get_user_model().objects.get_or_create(
            username="admin", defaults={"is_staff": True, "is_superuser": True}
        )
        if created:
            user.set_password(password)
            user.save()
            self.stdout.write("Created demo admin user 'admin'.")

    def _application(self) -> Application:
        application, created = Application.objects.get_or_create(
            endpoint=settings.ILIVEIT_ENDPOINT,
            token=settings.ILIVEIT_ACCESS_TOKEN,
            defaults={
                "name": "Sandbox" if "127.0.0.1" in settings.ILIVEIT_ENDPOINT else "Demo",
                "environment": settings.ILIVEIT_ENVIRONMENT,
                "mvno_id": settings.ILIVEIT_MVNO_ID,
                "rate_limit": 20,
            },
        )
        if created:
            self.stdout.write(f"Created application '{application.name}'.")
        return application

    def _demo_campaign(self, application: Application) -> None:
        if Campaign.objects.exists():
            return
        campaign = Campaign.objects.create(
            name="Demo: welcome SMS",
            channel=Channel.SMS,
            application=application,
            body_text="Welcome to iLiveIt Portal! Reply STOP to opt out.",
        )
        Message.objects.bulk_create(
            Message(campaign=campaign, recipient=recipient) for recipient in DEMO_RECIPIENTS
        )
        self.stdout.write(f"Created draft campaign '{campaign.name}'; launch it from its page.")
