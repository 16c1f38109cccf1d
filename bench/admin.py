"""The admin yardstick: Django's default changelist of a trivial model (bench settings only)."""

from django.contrib import admin

from bench.models import BenchRow


@admin.register(BenchRow)
class BenchRowAdmin(admin.ModelAdmin):
    """Default settings, as the goal's measurement assumes, with its 100 rows a page."""

    list_per_page = 100
