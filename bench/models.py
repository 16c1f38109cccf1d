from django.core.serializers.json import DjangoJSONEncoder
from django.db import models


class BenchRow(models.Model):
    """The insert yardstick's table: one row per request, nothing else."""

    created_at = models.DateTimeField(auto_now_add=True)
    note = models.CharField(max_length=40)

    def __str__(self):
        return f"bench row {self.pk}"


class BenchSubmission(models.Model):
    """The form-post floor's table: a submission kept as it arrived (bench/views.py)."""

    created_at = models.DateTimeField(auto_now_add=True)
    screening_seq = models.PositiveIntegerField()
    payload = models.JSONField(encoder=DjangoJSONEncoder)

    def __str__(self):
        return f"bench submission {self.pk}"
