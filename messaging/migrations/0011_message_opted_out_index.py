from django.db import migrations, models


class Migration(migrations.Migration):
    # 0011 is another change's; renumbered on merge.
    dependencies = [
        ("messaging", "0010_message_fields_opt_outs"),
    ]

    operations = [
        # An index only: SQLite keeps the table (and its counter triggers) as it is.
        migrations.AddIndex(
            model_name="message",
            index=models.Index(
                condition=models.Q(
                    ("is_test", False), ("last_error", "opted out"), ("state", "cancelled")
                ),
                fields=["campaign"],
                name="message_opted_out",
            ),
        ),
    ]
