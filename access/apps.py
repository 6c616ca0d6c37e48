from django.apps import AppConfig
from django.db.models.signals import post_migrate


class AccessConfig(AppConfig):
    name = "access"
    verbose_name = "Access"

    def ready(self) -> None:
        # After every migrate: the permissions the roles hold exist only once their apps have
        # migrated, so the roles are (re)made then rather than in a migration.
        post_migrate.connect(_ensure_roles, sender=self)


def _ensure_roles(sender, using, **kwargs) -> None:
    from access.roles import roles_ensure

    roles_ensure(using=using)
