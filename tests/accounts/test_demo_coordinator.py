"""`manage.py create_demo_coordinator` (accounts.services.demo_coordinator_ensure)."""

from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from tests.conftest import LDN_FILE

pytestmark = pytest.mark.django_db


def run(*args) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_the_demo_coordinator_is_created_once_and_its_password_never_changes():
    run("load_study", str(LDN_FILE))
    first = run("create_demo_coordinator")
    password = first.split("password: ")[1].split()[0]
    user = get_user_model().objects.get(username="coordinator")
    hashed = user.password

    second = run("create_demo_coordinator")

    assert len(password) >= 12
    assert user.is_staff and not user.is_superuser
    assert user.check_password(password)
    assert list(user.studies.values_list("slug", flat=True)) == ["ldn-mecfs"]
    assert user.has_perm("recruitment.view_participant")
    assert "password:" not in second
    assert get_user_model().objects.filter(username="coordinator").count() == 1
    assert get_user_model().objects.get(username="coordinator").password == hashed
