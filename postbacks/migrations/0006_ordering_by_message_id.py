"""Events and replies are ordered by their message_id column, not through the message: the
same order, without a join to the messages table in every query that does not set its own."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("postbacks", "0005_reply_campaign"),
    ]

    operations = [
        migrations.AlterModelOptions(
            name="messageevent",
            options={"ordering": ["message_id", "stage_at", "id"]},
        ),
        migrations.AlterModelOptions(
            name="reply",
            options={
                "ordering": ["message_id", "received_at", "id"],
                "verbose_name_plural": "replies",
            },
        ),
    ]
