"""`roles_ensure()` leaves every role's group holding exactly its reviewed permissions, and
reads them in one query when they already do (as the migrations leave them)."""

import pytest
from django.contrib.auth.models import Group, Permission

from accounts import roles
from accounts.services import roles_ensure

pytestmark = pytest.mark.django_db


def held(group: Group) -> set[str]:
    return set(group.permissions.values_list("codename", flat=True))


def test_groups_already_right_are_read_in_one_query(django_assert_num_queries):
    roles_ensure()

    with django_assert_num_queries(1):
        groups = roles_ensure()

    assert set(groups) == set(roles.ROLE_PERMISSIONS)
    for name, codenames in roles.ROLE_PERMISSIONS.items():
        assert held(groups[name]) == set(codenames)


def test_a_missing_group_and_a_group_with_other_permissions_are_put_right():
    roles_ensure()
    Group.objects.filter(name=roles.COORDINATOR).delete()
    monitor = Group.objects.get(name=roles.MONITOR)
    monitor.permissions.add(Permission.objects.get(codename="delete_group"))
    monitor.permissions.remove(
        *monitor.permissions.filter(content_type__app_label="recruitment")[:1]
    )

    groups = roles_ensure()

    assert held(groups[roles.COORDINATOR]) == set(roles.ROLE_PERMISSIONS[roles.COORDINATOR])
    assert held(Group.objects.get(name=roles.MONITOR)) == set(roles.ROLE_PERMISSIONS[roles.MONITOR])
