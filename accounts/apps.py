from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    """Staff accounts: sign-in, two-factor pages, lockout, session limits, roles. No models of
    its own: the roles are groups, the devices django-otp's."""

    name = "accounts"
    verbose_name = _("Staff accounts")
