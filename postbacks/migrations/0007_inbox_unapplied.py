"""The unapplied rows' index gains the kind, between the state and the id (see
PostbackInbox.Meta). On PostgreSQL the new index is built and the old one dropped
CONCURRENTLY, so that the webhook's inserts are not held up while a large inbox is read."""

from django.db import migrations, models

OLD = models.Index(
    fields=["state", "id"],
    name="inbox_unprocessed",
    condition=models.Q(state__in=["pending", "waiting"]),
)
NEW = models.Index(
    fields=["state", "kind", "id"],
    name="inbox_unapplied",
    condition=models.Q(state__in=["pending", "waiting"]),
)


def _concurrently(schema_editor) -> dict:
    return {"concurrently": True} if schema_editor.connection.vendor == "postgresql" else {}


def _swap(apps, schema_editor, *, add, remove):
    model = apps.get_model("postbacks", "PostbackInbox")
    schema_editor.add_index(model, add, **_concurrently(schema_editor))
    schema_editor.remove_index(model, remove, **_concurrently(schema_editor))


def forwards(apps, schema_editor):
    _swap(apps, schema_editor, add=NEW, remove=OLD)


def backwards(apps, schema_editor):
    _swap(apps, schema_editor, add=OLD, remove=NEW)


class Migration(migrations.Migration):
    # CREATE INDEX CONCURRENTLY cannot run inside a transaction.
    atomic = False

    dependencies = [
        ("postbacks", "0006_ordering_by_message_id"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.RemoveIndex(model_name="postbackinbox", name="inbox_unprocessed"),
                migrations.AddIndex(model_name="postbackinbox", index=NEW),
            ],
            database_operations=[
                migrations.RunPython(forwards, backwards),
            ],
        ),
    ]
