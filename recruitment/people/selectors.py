"""Reading a person's applications, as staff may see them."""

from dataclasses import dataclass

from recruitment.models import Participant, Status


@dataclass(frozen=True)
class OtherApplication:
    """One line of "Other applications of this person": no name, no contact detail."""

    pk: int
    screening_number: str
    study: str
    status: str


def person_application_list(*, participant: Participant, user) -> list[OtherApplication]:
    """The same person's other applications, in the studies `user` is a member of only (all
    of them for a superuser), oldest first. One query, whatever their number."""
    rows = (
        Participant.objects.visible_to(user)
        .filter(person_id=participant.person_id)
        .exclude(pk=participant.pk)
        .order_by("created_at", "pk")
        .values_list("pk", "screening_number", "study__short_title", "status")
    )
    return [
        OtherApplication(pk, number, study, Status(status).label)
        for pk, number, study, status in rows
    ]
