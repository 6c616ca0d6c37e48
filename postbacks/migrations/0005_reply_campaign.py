"""Each reply keeps its message's campaign and application, for the campaign's replies page and
the replies inbox (indexes reply_campaign_newest, reply_application_newest); replies stored
before are given theirs here."""

import django.db.models.deletion
from django.db import migrations, models
from django.db.models import OuterRef, Subquery


def copy_campaigns(apps, schema_editor):
    Reply = apps.get_model("postbacks", "Reply")
    Message = apps.get_model("messaging", "Message")
    message = Message.objects.filter(pk=OuterRef("message_id"))
    Reply.objects.filter(campaign__isnull=True).update(
        campaign_id=Subquery(message.values("campaign_id")[:1]),
        application_id=Subquery(message.values("campaign__application_id")[:1]),
    )


class Migration(migrations.Migration):
    dependencies = [
        ("messaging", "0011_message_opted_out_index"),
        ("postbacks", "0004_campaign_event_counts"),
    ]

    operations = [
        migrations.AddField(
            model_name="reply",
            name="campaign",
            field=models.ForeignKey(
                blank=True,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="+",
                to="messaging.campaign",
            ),
        ),
        migrations.AddField(
            model_name="reply",
            name="application",
            field=models.ForeignKey(
                blank=True,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="+",
                to="messaging.application",
            ),
        ),
        migrations.RunPython(copy_campaigns, migrations.RunPython.noop),
        migrations.AddIndex(
            model_name="reply",
            index=models.Index(fields=["campaign", "-id"], name="reply_campaign_newest"),
        ),
        migrations.AddIndex(
            model_name="reply",
            index=models.Index(fields=["application", "-id"], name="reply_application_newest"),
        ),
    ]
