"""Staff accounts: the roles and the demo coordinator."""

import logging
import secrets

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.db import transaction

from accounts import roles
from recruitment.models import (
    Study,
)

logger = logging.getLogger(__name__)


# ---------------------------------------------------------------------------------------------
# Staff accounts
# ---------------------------------------------------------------------------------------------
def roles_ensure() -> dict[str, Group]:
    """Create the staff groups with their reviewed permissions (see `accounts.roles`). One
    query reads every role's group and permissions; only a group that is missing or holds
    other permissions is written (the migrations leave them right, and tests call this for
    nearly every staff user)."""
    wanted = {
        name: {("recruitment", codename) for codename in codenames}
        for name, codenames in roles.ROLE_PERMISSIONS.items()
    }
    pks: dict[str, int] = {}
    held: dict[str, set[tuple[str, str]]] = {name: set() for name in wanted}
    for pk, name, app_label, codename in Group.objects.filter(name__in=wanted).values_list(
        "pk", "name", "permissions__content_type__app_label", "permissions__codename"
    ):
        pks[name] = pk
        if codename is not None:
            held[name].add((app_label, codename))
    groups = {}
    for name, codenames in roles.ROLE_PERMISSIONS.items():
        if name in pks and held[name] == wanted[name]:
            groups[name] = Group.from_db(Group.objects.db, ["id", "name"], [pks[name], name])
            continue
        group, _created = Group.objects.get_or_create(name=name)
        group.permissions.set(
            Permission.objects.filter(content_type__app_label="recruitment", codename__in=codenames)
        )
        groups[name] = group
    return groups


@transaction.atomic
def demo_coordinator_ensure(*, username: str = "coordinator") -> str | None:
    """Create the demo coordinator (a staff member of every study) once.

    Returns the new random password, or None when the account already exists: running again
    neither duplicates the account nor changes its password.
    """
    user_model = get_user_model()
    if user_model.objects.filter(username=username).exists():
        return None
    password = secrets.token_urlsafe(12)
    user = user_model.objects.create_user(username=username, password=password, is_staff=True)
    user.groups.add(roles_ensure()[roles.COORDINATOR])
    for study in Study.objects.all():
        study.members.add(user)
    return password
