from django.db import models


class BenchRow(models.Model):
    """The insert yardstick's table: one row per request, nothing else."""

    created_at = models.DateTimeField(auto_now_add=True)
    note = models.CharField(max_length=40)

    def __str__(self):
        return f"bench row {self.pk}"
