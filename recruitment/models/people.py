"""People: the trial center's record of one person across every study they apply to.

A `Person` holds the current identity used across studies (name, contact details, date of
birth, ZIP code, language) and their consent to be contacted about other studies (the
registry). Each of their applications is a `Participant` of one study, which keeps its own
copy of the contact details as they were given on that application (a snapshot): the status
machine, answers, verdicts and screening number stay on the application.
"""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from recruitment.models.common import ZIP_VALIDATOR, audit_history

# People the center may match and invite to other studies: they agreed to be contacted about
# other studies, have not taken it back, and are not erased.
IN_REGISTRY = Q(registry_consent=True, registry_left_at__isnull=True, erased_at__isnull=True)


class PersonQuerySet(models.QuerySet):
    def in_registry(self):
        """People the center may match and invite to other studies (`IN_REGISTRY`)."""
        return self.filter(IN_REGISTRY)


class Person(models.Model):
    """One person, whatever number of studies they apply to (`applications`)."""

    first_name = models.CharField(_("first name"), max_length=100, blank=True)
    last_name = models.CharField(_("last name"), max_length=100, blank=True)
    # The same normalisation as the participant's (recruitment.contact), so both match alike.
    name_normalised = models.CharField(max_length=201, editable=False, blank=True)
    email = models.EmailField(_("email"), max_length=254, blank=True)
    email_normalised = models.CharField(max_length=254, editable=False, blank=True)
    phone = models.CharField(_("phone"), max_length=30, blank=True)
    phone_normalised = models.CharField(max_length=15, editable=False, blank=True)
    # NULL only once erased, or for someone who never gave it.
    date_of_birth = models.DateField(_("date of birth"), null=True, blank=True)
    zip_code = models.CharField(_("ZIP code"), max_length=5, blank=True, validators=[ZIP_VALIDATOR])
    language = models.CharField(_("language"), max_length=10, default="en")

    # Consent to be contacted about other studies (the registry)
    registry_consent = models.BooleanField(
        _("may be contacted about other studies"),
        default=False,
        help_text=_(
            "The person ticked the box on an interest form. Only people who agreed, have not "
            "left the registry and are not erased are matched to other studies."
        ),
    )
    registry_consent_version = models.CharField(
        _("registry consent version"), max_length=20, blank=True
    )
    registry_consent_at = models.DateTimeField(
        _("agreed to the registry at"), null=True, blank=True
    )
    registry_left_at = models.DateTimeField(
        _("left the registry at"),
        null=True,
        blank=True,
        help_text=_("Set when the person asked not to be contacted about other studies."),
    )
    # The secret half of the link to leave the registry (`recruitment.links`): set when the
    # person agrees, cleared when the link is used, so each link works once.
    registry_nonce = models.CharField(max_length=32, blank=True, default="", editable=False)
    erased_at = models.DateTimeField(
        _("personal data erased"),
        null=True,
        blank=True,
        editable=False,
        help_text=_(
            "Set when none of the person's applications still needed their details: name, "
            "contact details, date of birth and ZIP code were erased."
        ),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    objects = PersonQuerySet.as_manager()
    history = audit_history(
        excluded_fields=["registry_nonce"],
        no_db_index=["email_normalised"],
    )

    class Meta:
        verbose_name = _("person")
        verbose_name_plural = _("people")
        ordering = ["pk"]
        permissions = [
            (
                "view_registry_people",
                _("Can see who is in the registry: names and contact details"),
            )
        ]
        indexes = [
            # The duplicate lookup's keys: the email, or the name with the date of birth (an
            # index of its own, not db_index, which on PostgreSQL adds a LIKE twin that every
            # new person would write and no lookup reads).
            models.Index(fields=["email_normalised"], name="person_email"),
            models.Index(fields=["name_normalised", "date_of_birth"], name="person_name_dob"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(registry_consent=False) | Q(registry_consent_at__isnull=False),
                name="person_registry_consent_has_time",
            ),
        ]

    def __str__(self):
        return _("Person {number}").format(number=self.pk)

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"

    @property
    def in_registry(self) -> bool:
        return self.registry_consent and not self.registry_left_at and not self.erased_at
