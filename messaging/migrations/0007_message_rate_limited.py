import importlib

from django.db import migrations, models

# SQLite cannot add a NOT NULL column in place: Django copies messaging_message into a new
# table, and the copy has none of the triggers that keep the campaign counters and roll-ups
# (0003, 0004). They are installed again on the new table. PostgreSQL keeps them.
counts = importlib.import_module("messaging.migrations.0003_campaigncount")
rollups = importlib.import_module("messaging.migrations.0004_campaign_rollups")


def _sqlite_triggers_again(apps, schema_editor):
    if schema_editor.connection.vendor != "sqlite":
        return
    with schema_editor.connection.cursor() as cursor:
        for drop in [*counts.SQLITE_UNINSTALL, *rollups._sqlite_uninstall()]:
            cursor.execute(drop.replace("DROP TRIGGER", "DROP TRIGGER IF EXISTS"))
        for statement in [*counts.SQLITE_INSTALL, *rollups._sqlite_install()]:
            cursor.execute(statement)


class Migration(migrations.Migration):

    dependencies = [
        ('messaging', '0006_message_with_body_index'),
    ]

    operations = [
        # Backwards, the columns go last and the same copy happens then.
        migrations.RunPython(migrations.RunPython.noop, _sqlite_triggers_again, elidable=False),
        migrations.AddField(
            model_name='message',
            name='rate_limited_count',
            field=models.PositiveIntegerField(default=0, verbose_name='429 answers'),
        ),
        migrations.AddField(
            model_name='message',
            name='rate_limited_since',
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.RunPython(_sqlite_triggers_again, migrations.RunPython.noop, elidable=False),
    ]
