"""Text messages: who asked for no more (`TextOptOut`), and the reminders claimed once each
(`Reminder`)."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from recruitment.models.common import audit_history
from recruitment.models.participants import Participant
from recruitment.models.status import ContactMethod
from recruitment.models.studies import Study
from recruitment.models.visits import Visit

# The words that stop texts, and start them again, as carriers and Twilio read a reply.
STOP_WORDS = frozenset({"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT"})
START_WORDS = frozenset({"START", "UNSTOP", "YES"})


class OptOutHow(models.TextChoices):
    REPLY = "reply", _("Replied to a text")
    STAFF = "staff", _("Asked staff")


class TextOptOutQuerySet(models.QuerySet):
    def stopped(self):
        return self.filter(stopped=True)


class TextOptOut(models.Model):
    """A phone number that asked for no more texts (STOP), or asked again for them (START).
    One row per number, in E.164: a reply comes from a number, not from a participant, and
    the number is who the texts went to. Changed by `recruitment.texts.optout`, audited."""

    phone = models.CharField(_("phone (E.164)"), max_length=16, unique=True)
    stopped = models.BooleanField(
        _("texts stopped"),
        default=True,
        help_text=_("No text is sent to this number while set; notices go by email instead."),
    )
    at = models.DateTimeField(_("when"))
    how = models.CharField(_("how"), max_length=10, choices=OptOutHow)
    reason = models.TextField(_("reason"), max_length=500, blank=True)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("recorded by"),
        help_text=_("The staff member who recorded it; empty for a reply."),
    )
    participant = models.ForeignKey(
        Participant,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("asked on the call card of"),
    )
    history = audit_history()

    objects = TextOptOutQuerySet.as_manager()

    class Meta:
        verbose_name = _("text opt-out")
        verbose_name_plural = _("text opt-outs")
        constraints = [
            models.CheckConstraint(condition=Q(how__in=OptOutHow.values), name="opt_out_how_valid"),
        ]

    def __str__(self):
        return f"Texts {'stopped' if self.stopped else 'allowed'} ({self.get_how_display()})"


class ReminderKind(models.TextChoices):
    VISIT = "visit", _("Visit reminder (patient)")
    FOLLOW_UPS = "follow_ups", _("Follow-ups due (coordinators)")


class Reminder(models.Model):
    """A reminder claimed before it is sent: the row is written (INSERT) first, and a second
    scheduler or worker that tries to claim the same one hits the unique constraint and
    leaves it. So each visit gets its reminder once per day it is booked for and channel (a
    visit moved to another day after its reminder gets one for the new day), and each
    study's coordinators one follow-up email a day, however many schedulers run."""

    kind = models.CharField(_("kind"), max_length=12, choices=ReminderKind)
    channel = models.CharField(_("channel"), max_length=10, choices=ContactMethod)
    visit = models.ForeignKey(
        Visit,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="reminders",
        verbose_name=_("visit"),
    )
    study = models.ForeignKey(
        Study, on_delete=models.CASCADE, related_name="+", verbose_name=_("study")
    )
    day = models.DateField(
        _("for the day"),
        help_text=_("The day the visit was booked for when it was claimed, or the digest's."),
    )
    claimed_at = models.DateTimeField(_("claimed at"), auto_now_add=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    outcome = models.CharField(_("outcome"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("reminder")
        verbose_name_plural = _("reminders")
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "visit", "day", "channel"],
                condition=Q(visit__isnull=False),
                name="reminder_once_per_visit_day_and_channel",
            ),
            models.UniqueConstraint(
                fields=["kind", "study", "day"],
                condition=Q(kind="follow_ups"),
                name="reminder_follow_ups_once_per_study_day",
            ),
            models.CheckConstraint(
                condition=Q(kind__in=ReminderKind.values), name="reminder_kind_valid"
            ),
            models.CheckConstraint(
                condition=Q(kind="visit", visit__isnull=False)
                | Q(kind="follow_ups", visit__isnull=True),
                name="reminder_visit_iff_visit_kind",
            ),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} by {self.get_channel_display()} for {self.day}"
