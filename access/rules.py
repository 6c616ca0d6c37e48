"""Who sees what: every page, the admin and the API narrow their querysets through these."""

from django.db.models import QuerySet

from messaging.models import Application, Campaign, Message


def sees_all_applications(user) -> bool:
    return user.is_active and (user.is_superuser or user.has_perm("access.view_all_applications"))


def scoped(queryset: QuerySet, user, *, to_application: str = "") -> QuerySet:
    """Narrow a queryset to the applications the user is granted. `to_application` is the
    lookup from the queryset's model to its Application ("" for Application itself)."""
    if not user.is_authenticated:
        return queryset.none()
    if sees_all_applications(user):
        return queryset
    lookup = f"{to_application}__grants__user" if to_application else "grants__user"
    return queryset.filter(**{lookup: user})


def applications_visible(user) -> QuerySet[Application]:
    return scoped(Application.objects.all(), user)


def campaigns_visible(user) -> QuerySet[Campaign]:
    return scoped(Campaign.objects.all(), user, to_application="application")


def messages_visible(user) -> QuerySet[Message]:
    return scoped(Message.objects.all(), user, to_application="campaign__application")
