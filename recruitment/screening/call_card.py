"""The call card: who to call and why, on the first screen of a participant's page and on the
contact-attempt page. Name, phone (a `tel:` link), email, preferred method and best time, the
patient's own note, the last contact attempts, the next follow-up, the pre-screen in one line
and the steps possible now. Staff without `view_identification` get the card without what
identifies the person (monitors read the pre-screen, the attempts' outcomes and the dates).

Built with a fixed number of queries whatever the participant's history (see the tests).
"""

from dataclasses import dataclass, field
from datetime import date

from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext

from recruitment import selectors
from recruitment.contact import format_phone
from recruitment.identification import NOTE_HIDDEN, can_identify, text_shown
from recruitment.models import ContactAttempt, OptOutHow, Participant, RunIn, Status
from recruitment.people.selectors import OtherApplication, person_application_list
from recruitment.screening.steps import Gates, Step, participant_steps
from recruitment.texts.services import text_opt_out_get
from recruitment.verdict_words import prescreen_summary
from recruitment.visits.selectors import VisitRow, visit_list_of_participant

# How many of the latest contact attempts the card shows.
ATTEMPTS_SHOWN = 3


def tel_uri(phone_digits: str) -> str:
    """A `tel:` link for a stored phone number (digits): US numbers get their +1."""
    if not phone_digits:
        return ""
    if len(phone_digits) == 10:
        return f"tel:+1{phone_digits}"
    return f"tel:+{phone_digits}"


@dataclass(frozen=True)
class AttemptLine:
    at: object
    method: str
    outcome: str
    note: str
    by: str
    follow_up_on: date | None


@dataclass(frozen=True)
class CallCard:
    participant: Participant
    identify: bool
    summary: str
    attempts: list[AttemptLine]
    more_attempts: bool
    not_reached: bool
    follow_up_due: bool
    steps: list[Step] = field(default_factory=list)
    # The same person's applications in the studies the user is a member of.
    other_applications: list[OtherApplication] = field(default_factory=list)
    # Consented or further on, on the participant page: their visits, each with its window
    # (recruitment.visits).
    visits: list[VisitRow] = field(default_factory=list)
    # The run-in, for a participant in it: "21 of 28 days, 75%".
    run_in: RunIn | None = None
    # Identifying details: empty for staff who may not see them.
    name: str = ""
    phone: str = ""
    tel: str = ""
    email: str = ""
    preferred_contact: str = ""
    best_time: str = ""
    note: str = ""
    # Texts: whether they were stopped (when and how), and the page that stops them or,
    # after a stop staff recorded, turns them back on.
    texts_stopped: str = ""
    texts_stop_url: str = ""
    texts_start_url: str = ""

    @property
    def offered(self) -> list[Step]:
        return [step for step in self.steps if step.possible]

    @property
    def refused(self) -> list[Step]:
        return [step for step in self.steps if not step.possible]


def call_card_build(*, participant: Participant, user, today: date, can_change: bool) -> CallCard:
    """The card for `participant` as `user` may see it on `today`."""
    identify = can_identify(user)
    verdicts = selectors.verdict_list(participant=participant)
    overridden = list(participant.eligibility_overrides.values_list("criterion_code", flat=True))
    latest = list(
        ContactAttempt.objects.filter(participant=participant)
        .select_related("by")
        .order_by("-at", "-pk")[: ATTEMPTS_SHOWN + 1]
    )
    attempts = [
        AttemptLine(
            at=attempt.at,
            method=attempt.get_method_display(),
            outcome=attempt.get_outcome_display(),
            note=text_shown(text=attempt.note, identify=identify, hidden=NOTE_HIDDEN),
            by=attempt.by.get_username(),
            follow_up_on=attempt.follow_up_on,
        )
        for attempt in latest[:ATTEMPTS_SHOWN]
    ]
    open_ = participant.status in Status.open()
    run_in = None
    if participant.status == Status.RUN_IN:
        run_in = RunIn.objects.filter(participant=participant).first()
    steps = []
    if can_change and participant.erased_at is None:
        steps = participant_steps(
            participant=participant,
            user=user,
            can_change=True,
            has_staff_criteria=participant.study.criteria.active().for_staff().exists(),
            gates=Gates(
                participant,
                verdicts=verdicts,
                overridden=overridden,
                # Read for someone in the run-in; the gate reads it itself for those back
                # from the waitlist after it.
                **({"run_in": run_in} if participant.status == Status.RUN_IN else {}),
            ),
        )
    details = {}
    if identify:
        details = {
            "name": participant.full_name.strip(),
            "phone": format_phone(participant.phone),
            "tel": tel_uri(participant.phone_normalised),
            "email": participant.email,
            "preferred_contact": participant.get_preferred_contact_display(),
            "best_time": participant.get_best_time_display(),
            "note": participant.note,
            **texts_details(participant, can_change=can_change),
        }
    visits = []
    if can_change and participant.status in Status.having_consented():
        visits = visit_list_of_participant(participant=participant)
    return CallCard(
        participant=participant,
        visits=visits,
        identify=identify,
        summary=prescreen_summary(verdicts, today=today, overridden=overridden),
        attempts=attempts,
        more_attempts=len(latest) > ATTEMPTS_SHOWN,
        not_reached=open_
        and participant.unanswered_attempts >= participant.study.not_reached_after,
        follow_up_due=open_
        and participant.next_follow_up_on is not None
        and participant.next_follow_up_on <= today,
        steps=steps,
        other_applications=person_application_list(participant=participant, user=user),
        run_in=run_in,
        **details,
    )


def texts_details(participant: Participant, *, can_change: bool) -> dict:
    """Whether texts to the participant's number are stopped ("Texts stopped on <date>
    (<how>)") with, after a stop staff recorded, the link to turn them back on; else the
    link to stop them; links for staff who may change the participant. A STOP reply is
    lifted by the person's START alone (the text provider blocks the number until then)."""
    opt_out = text_opt_out_get(phone=participant.phone) if participant.phone else None
    if opt_out is not None and opt_out.stopped:
        line = gettext("Texts stopped on %(date)s (%(how)s)") % {
            "date": date_format(timezone.localtime(opt_out.at), "DATE_FORMAT"),
            "how": opt_out.get_how_display().lower(),
        }
        details = {"texts_stopped": line}
        if can_change and opt_out.how == OptOutHow.STAFF and participant.erased_at is None:
            url = reverse("admin:recruitment_participant_texts_start", args=[participant.pk])
            details["texts_start_url"] = url
        return details
    if can_change and participant.phone.startswith("+") and participant.erased_at is None:
        url = reverse("admin:recruitment_participant_texts_stop", args=[participant.pk])
        return {"texts_stop_url": url}
    return {}


def script_blocks(text: str) -> list[tuple[str, list[str]]]:
    """A study's call script as blocks to show: paragraphs ("p", [text]) and lists ("ul",
    [items]), from text whose paragraphs are separated by blank lines and whose list items
    start with "- " (a line not starting so continues the item or paragraph above)."""
    blocks: list[tuple[str, list[str]]] = []
    for chunk in (text or "").replace("\r\n", "\n").split("\n\n"):
        lines = [line.strip() for line in chunk.split("\n") if line.strip()]
        paragraph: list[str] = []
        items: list[str] = []
        for line in lines:
            if line.startswith("- "):
                if paragraph:
                    blocks.append(("p", [" ".join(paragraph)]))
                    paragraph = []
                items.append(line[2:].strip())
            elif items:
                items[-1] = f"{items[-1]} {line}"
            else:
                paragraph.append(line)
        if paragraph:
            blocks.append(("p", [" ".join(paragraph)]))
        if items:
            blocks.append(("ul", items))
    return blocks
