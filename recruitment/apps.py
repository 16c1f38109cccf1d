from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


def create_cache_table(*, using: str = "default", verbosity: int = 1, **kwargs) -> None:
    """Create the database cache's table whenever `migrate` runs: the rate limits count in it
    when CACHE_URL is unset, so no deployment may serve before it exists. Idempotent, and a
    no-op when no cache uses the database. On PostgreSQL the table is then made unlogged
    (`recruitment.cache.cache_tables_unlog`)."""
    from django.core.management import call_command

    from recruitment.cache import cache_tables_unlog

    call_command("createcachetable", database=using, verbosity=max(verbosity - 1, 0))
    cache_tables_unlog(using=using)


class RecruitmentConfig(AppConfig):
    name = "recruitment"
    verbose_name = _("Recruitment")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from recruitment import checks  # noqa: F401 - registers the deploy checks

        post_migrate.connect(create_cache_table, sender=self, dispatch_uid="ldn_cache_table")
