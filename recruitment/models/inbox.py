"""Interest forms sent and not yet taken in: what the patient sent, kept as sent, with the
screening number the request took, until the task worker evaluates, matches and writes it
(recruitment/intake/inbox.py)."""

import json
import zlib

from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils.translation import gettext_lazy as _

from recruitment.models.studies import Study


class SentFormQuerySet(models.QuerySet):
    def waiting(self):
        """Not taken in yet (its form data still here)."""
        return self.filter(taken_in_at__isnull=True)


class SentForm(models.Model):
    """One interest form as the patient sent it, validated, numbered and waiting for the
    worker. A form waiting that stays (the worker stopped, or it failed) is reported by
    `manage.py check_tasks` and taken in by `manage.py take_in_sent_forms`.

    Once taken in, its form data is emptied and the row kept as the token's number until the
    form could no longer be sent again (a form served over a day ago is shown anew with a new
    token): so a form posted again, even after its take-in, finds its number here without a
    look at the participants, and the thank-you page reads one row. `erase_expired_participants`
    deletes those rows.

    Holds health answers and contact details like the participant it becomes, until its
    take-in: never shown to staff, never in a log line; the task that takes it in carries only
    its id."""

    study = models.ForeignKey(
        Study,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("study"),
        # Indexed by the unique constraint below (study first).
        db_index=False,
        # No database constraint: its check at commit locks the study's row once more (a WAL
        # record every form) after the number's UPDATE; studies are never deleted (PROTECT).
        db_constraint=False,
    )
    screening_seq = models.PositiveIntegerField(_("screening sequence"), editable=False)
    screening_number = models.CharField(_("screening number"), max_length=30, editable=False)
    # The form's idempotency token (the participant's `submission_token` once taken in): a
    # second post of the same form finds this row instead of taking another number.
    submission_token = models.UUIDField(editable=False)
    # Written once and read once: compressed JSON (`form_pack`, read as `data`) is half the
    # bytes of the same form in a JSON column, in the row and in the WAL.
    packed = models.BinaryField(
        _("form as sent"),
        editable=False,
        help_text=_(
            "The contact details and answers, as validated, and the site's address: "
            "compressed JSON, empty once taken in."
        ),
    )
    language = models.CharField(_("language"), max_length=10, default="en")
    # What the thank-you page says of who will call, kept with the number after the take-in.
    preferred_contact = models.CharField(_("preferred contact"), max_length=10, editable=False)
    sent_at = models.DateTimeField(_("sent"), auto_now_add=True)
    taken_in_at = models.DateTimeField(_("taken in"), null=True, editable=False)

    objects = SentFormQuerySet.as_manager()

    class Meta:
        verbose_name = _("sent form")
        verbose_name_plural = _("sent forms")
        # Nobody is given it: staff see a form once it is taken in, as a participant.
        default_permissions = ()
        constraints = [
            models.UniqueConstraint(
                fields=["study", "submission_token"], name="sent_form_token_unique_in_study"
            ),
        ]

    def __str__(self):
        return f"Sent form {self.pk}"

    @property
    def data(self) -> dict:
        """The form as sent (`form_pack`'s input); empty once taken in."""
        return json.loads(zlib.decompress(self.packed)) if self.packed else {}


def form_pack(data: dict) -> bytes:
    """A sent form's data as `SentForm.packed` keeps it: compact JSON, compressed."""
    text = json.dumps(data, cls=DjangoJSONEncoder, separators=(",", ":"))
    return zlib.compress(text.encode())
