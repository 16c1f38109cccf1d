# STUB (not committed): stands in for branch `person` until it is merged.
from django.db import models
from django.db.models import Q

from recruitment.models.common import audit_history
from recruitment.models.participants import Participant


class PersonQuerySet(models.QuerySet):
    def in_registry(self):
        return self.filter(
            registry_consent=True, registry_left_at__isnull=True, erased_at__isnull=True
        )


class Person(models.Model):
    first_name = models.CharField(max_length=100)
    last_name = models.CharField(max_length=100)
    email = models.EmailField(max_length=254)
    phone = models.CharField(max_length=30, blank=True)
    name_normalised = models.CharField(max_length=201, blank=True)
    email_normalised = models.CharField(max_length=254, blank=True)
    phone_normalised = models.CharField(max_length=15, blank=True)
    date_of_birth = models.DateField(null=True)
    zip_code = models.CharField(max_length=5)
    language = models.CharField(max_length=10, default="en")
    registry_consent = models.BooleanField(default=False)
    registry_consent_version = models.CharField(max_length=20, blank=True)
    registry_consent_at = models.DateTimeField(null=True, blank=True)
    registry_left_at = models.DateTimeField(null=True, blank=True)
    erased_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    objects = PersonQuerySet.as_manager()
    history = audit_history()


models.ForeignKey(
    Person, on_delete=models.PROTECT, related_name="applications", null=True, blank=True
).contribute_to_class(Participant, "person")
