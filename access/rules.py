"""Who sees what: every page, the admin and the API narrow their querysets through `scoped`
(messaging/visibility.py applies it to applications, campaigns and messages)."""

from django.db.models import QuerySet


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
