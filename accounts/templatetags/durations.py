"""A length of time in words, for pages that say how long something lasts ("1 hour")."""

from datetime import timedelta

from django import template
from django.utils.translation import ngettext

register = template.Library()


@register.filter
def duration_words(value) -> str:
    """ "1 hour", "2 hours", "30 minutes", "1 hour 30 minutes": whole hours and minutes (a
    remainder under a minute counts as a minute)."""
    if not isinstance(value, timedelta):
        return ""
    minutes = -(-int(value.total_seconds()) // 60)  # rounded up
    hours, minutes = divmod(max(minutes, 0), 60)
    parts = []
    if hours:
        parts.append(ngettext("%(n)d hour", "%(n)d hours", hours) % {"n": hours})
    if minutes or not hours:
        parts.append(ngettext("%(n)d minute", "%(n)d minutes", minutes) % {"n": minutes})
    return " ".join(parts)
