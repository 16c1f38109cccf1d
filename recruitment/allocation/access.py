"""Who may read arms, upload a list, unblind, or see the unblindings: a permission held
through a role, never through the superuser flag (a superuser is not in the blinded team's
way, but is not unblinded by it either: an administrator who must see arms joins the role,
and that change is in the admin's log)."""

from django.contrib.auth.models import Permission
from django.db.models import Q

from recruitment.models import Study

MANAGE_ALLOCATION = "manage_allocation"
UNBLIND_PARTICIPANT = "unblind_participant"
VIEW_UNBLINDING = "view_unblinding"


def holds(user, codename: str) -> bool:
    """Whether the user holds `recruitment.<codename>` through a group or as their own, the
    superuser flag ignored (0 queries for a non-superuser whose permissions are cached, else 1)."""
    if not (user.is_authenticated and user.is_active):
        return False
    if not user.is_superuser:
        return user.has_perm(f"recruitment.{codename}")
    return (
        Permission.objects.filter(
            Q(group__user=user) | Q(user=user),
            content_type__app_label="recruitment",
            codename=codename,
        )
        .distinct()
        .exists()
    )


def is_member(user, study: Study) -> bool:
    """Membership itself, not "superusers see every study" (1 query)."""
    return study.members.filter(pk=user.pk).exists()


def may_see_arms(user) -> bool:
    return holds(user, MANAGE_ALLOCATION)


def may_manage_allocation(user, study: Study) -> bool:
    return may_see_arms(user) and is_member(user, study)


def may_unblind(user, study: Study) -> bool:
    return holds(user, UNBLIND_PARTICIPANT) and is_member(user, study)


def may_view_unblindings(user, study: Study) -> bool:
    return holds(user, VIEW_UNBLINDING) and is_member(user, study)
