"""Save and finish later: the patient's pages (services in recruitment.intake.drafts).

- POST /studies/<slug>/interest/save/ keeps the form's answers as a draft and emails a link;
  it needs only a valid email address. Rate-limited with the interest form (one counter).
- GET /studies/<slug>/interest/saved/ says where the link went (post/redirect/get).
- /studies/<slug>/interest/resume/<token>/: GET shows a button and changes nothing (email
  scanners that open links must not use one up); POST uses the link once, puts the draft in
  the session and redirects to the form, which shows every answer. The token is never in the
  form page's URL. A link that does not work gets one 404 page, whatever the reason.
- On the form page the header's language switch belongs to the form and posts its answers to
  the form's URL; they are kept in the session and shown again, once, in the new language
  (switch_language, kept_context).
"""

import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.forms.utils import ErrorDict
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.utils import timezone, translation
from django.utils.translation import check_for_language
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_GET, require_http_methods
from django_ratelimit.decorators import ratelimit

from accounts.client_ip import interest_rate, ratelimit_key
from recruitment import selectors
from recruitment.intake import drafts
from recruitment.intake.form_timing import FormTiming, form_issued_token
from recruitment.intake.forms import InterestForm
from recruitment.models import Draft, Study

# The session's draft: {"study": pk, "draft": pk or None, "via_link": bool}. Set by saving and
# by a used link; the form shows the draft's answers, a new save updates it (and emails a new
# link), sending the form deletes it.
DRAFT_SESSION_KEY = "interest_draft"
# The answers of a form whose language was switched: {"study": pk, "data": {name: [values]}},
# read once by the next GET of the form (see switch_language).
KEPT_SESSION_KEY = "interest_kept"
INVALID_STATUS = 404


class DraftForm(InterestForm):
    """The interest form as a draft: only the email address is checked (the link goes there);
    every other answer is kept as typed and checked when the form is sent.

    `check_email=False` checks nothing: a resumed draft is shown without error messages.
    """

    def __init__(self, *args, check_email: bool = True, **kwargs):
        self.check_email = check_email
        super().__init__(*args, **kwargs)

    def full_clean(self):
        self._errors = ErrorDict(renderer=self.renderer)
        self.cleaned_data = {}
        if not self.is_bound or not self.check_email:
            return
        for name in ("email", "website"):
            field = self.fields[name]
            value = field.widget.value_from_datadict(self.data, self.files, self.add_prefix(name))
            try:
                self.cleaned_data[name] = field.clean(value)
            except ValidationError as exc:
                self.add_error(name, exc)


def draft_context(study: Study) -> dict:
    """What every rendering of the interest form needs for the Save and finish later block."""
    return {"study": study, "draft_days": settings.DRAFT_MAX_AGE_DAYS}


def form_page_context(study: Study) -> dict:
    """What every rendering of the interest form needs: the Save and finish later block, and
    the header's language switch sending the form's answers along (see switch_language)."""
    return {**draft_context(study), "language_keeps_answers": True}


def answers_in_session(request: HttpRequest) -> bool:
    """Whether the session holds answers the form may show again (a draft, or answers kept by
    a switch of language), for any study: then the form's page is not the blank one."""
    return bool(request.session.get(DRAFT_SESSION_KEY) or request.session.get(KEPT_SESSION_KEY))


def session_draft_pk(request: HttpRequest, study: Study) -> int | None:
    held = request.session.get(DRAFT_SESSION_KEY)
    if held and held.get("study") == study.pk:
        return held.get("draft")
    return None


def resumed_context(request: HttpRequest, study: Study) -> dict | None:
    """The session's draft of this study as a filled-in form, with whether a link brought it
    back; None without one (an expired or deleted draft: the session forgets it)."""
    pk = session_draft_pk(request, study)
    if pk is None:
        return None
    draft = drafts.draft_get(pk=pk, study=study)
    if draft is None:
        request.session.pop(DRAFT_SESSION_KEY, None)
        return None
    criteria = selectors.criterion_list_for_form(study=study)
    data = drafts.draft_as_post(draft=draft)
    # Fresh per-page tokens, as an empty form gets: the signed time and the double-click token.
    data["form_issued"] = form_issued_token(timezone.now())
    data["submission_token"] = str(uuid.uuid4())
    return {
        "form": DraftForm(data, study=study, criteria=criteria, check_email=False),
        "draft_resumed": True,
        "draft_via_link": bool(request.session[DRAFT_SESSION_KEY].get("via_link")),
    }


def kept_context(request: HttpRequest, study: Study) -> dict | None:
    """The answers kept by a language switch on the form (read once), as a filled-in form in
    the active language without error messages; None without any."""
    kept = request.session.get(KEPT_SESSION_KEY)
    if not kept or kept.get("study") != study.pk:
        return None
    del request.session[KEPT_SESSION_KEY]
    data = QueryDict(mutable=True)
    for name, values in kept["data"].items():
        data.setlist(name, [str(v) for v in values])
    # Fresh per-page tokens, as an empty form gets: the signed time and the double-click token.
    data["form_issued"] = form_issued_token(timezone.now())
    data["submission_token"] = str(uuid.uuid4())
    criteria = selectors.criterion_list_for_form(study=study)
    return {"form": DraftForm(data, study=study, criteria=criteria, check_email=False)}


def forget_kept_answers(request: HttpRequest) -> None:
    """The form was sent or saved: answers kept by a language switch are not needed any
    more, and health answers must not outlive their use in the session."""
    request.session.pop(KEPT_SESSION_KEY, None)


def forget_draft(request: HttpRequest, study: Study) -> None:
    """The form was sent: its draft is not needed any more."""
    pk = session_draft_pk(request, study)
    if pk is not None:
        drafts.draft_discard(pk=pk, study=study)
    if DRAFT_SESSION_KEY in request.session:
        del request.session[DRAFT_SESSION_KEY]


@sensitive_post_parameters()
@never_cache
@require_http_methods(["GET", "POST"])
@ratelimit(group="interest-form", key=ratelimit_key, rate=interest_rate, method="POST", block=False)
def draft_save(request: HttpRequest, slug: str) -> HttpResponse:
    """Save and finish later. A missing or wrong email address re-shows the form with every
    answer kept and nothing saved. Bots (a filled honeypot, a form sent back without its
    signed time) are answered like people and nothing is saved. Speed is no sign of a bot
    here: a person may save a form they have just opened.

    A GET (the language switch on a re-shown form returns to its URL, say) goes to the form.
    """
    if request.method != "POST":
        return redirect("recruitment:interest", slug=slug)
    forget_kept_answers(request)  # this POST carries the answers, whatever becomes of it
    study = selectors.study_get_public(slug=slug)
    if getattr(request, "limited", False):
        return render(request, "429.html", {"study": study}, status=429)
    if not study.is_recruiting:
        return render(request, "recruitment/closed.html", {"study": study})
    criteria = selectors.criterion_list_for_form(study=study)
    form = DraftForm(request.POST, study=study, criteria=criteria)
    context = {**form_page_context(study), "form": form}
    if not form.is_valid():
        return render(request, "recruitment/interest.html", context)
    if form.cleaned_data.get("website") or form.timing == FormTiming.INVALID:
        request.session[DRAFT_SESSION_KEY] = {"study": study.pk, "draft": None}
        return redirect("recruitment:draft_saved", slug=study.slug)
    draft = drafts.draft_save(
        study=study,
        email=form.cleaned_data["email"],
        data=drafts.draft_data_from_post(post=request.POST, field_names=form.fields),
        language=translation.get_language() or "en",
        site_url=request.build_absolute_uri("/"),
        draft_pk=session_draft_pk(request, study),
    )
    request.session[DRAFT_SESSION_KEY] = {"study": study.pk, "draft": draft.pk, "via_link": False}
    return redirect("recruitment:draft_saved", slug=study.slug)


@never_cache
@require_GET
def draft_saved(request: HttpRequest, slug: str) -> HttpResponse:
    """Where the link went, so a mistyped address shows; from the session, never the URL."""
    study = selectors.study_get_public(slug=slug)
    held = request.session.get(DRAFT_SESSION_KEY)
    if not held or held.get("study") != study.pk:
        return redirect("recruitment:study", slug=study.slug)
    draft = drafts.draft_get(pk=held["draft"], study=study) if held.get("draft") else None
    context = {**draft_context(study), "email": draft.email if draft else ""}
    return render(request, "recruitment/draft_saved.html", context)


@never_cache
@require_http_methods(["GET", "POST"])
def draft_resume(request: HttpRequest, slug: str, token: str) -> HttpResponse:
    """The emailed link. GET asks the patient to press a button and uses nothing up; POST
    (with the CSRF token) uses the link and shows the form with the saved answers."""
    study = selectors.study_get_public(slug=slug)
    if not study.is_recruiting:
        response = render(request, "recruitment/closed.html", {"study": study})
    else:
        if request.method == "POST":
            draft: Draft | None = drafts.draft_resume(study=study, token=token)
        else:
            draft = drafts.draft_get_by_token(study=study, token=token)
        if draft is None:
            response = render(
                request, "recruitment/draft_invalid.html", {"study": study}, status=INVALID_STATUS
            )
        elif request.method == "POST":
            # A new session id: whoever may have known the old one cannot see the answers.
            request.session.cycle_key()
            request.session[DRAFT_SESSION_KEY] = {
                "study": study.pk,
                "draft": draft.pk,
                "via_link": True,
            }
            response = redirect("recruitment:interest", slug=study.slug)
        else:
            response = render(request, "recruitment/draft_resume.html", draft_context(study))
    # The URL holds the token: no request from this page may carry it as a referrer, not even
    # to this site. Not "no-referrer": with it, browsers send "Origin: null" with the button's
    # POST and Django's CSRF check refuses it.
    response["Referrer-Policy"] = "strict-origin"
    response["X-Robots-Tag"] = "noindex"
    return response


def switch_language(request: HttpRequest, study: Study) -> HttpResponse:
    """The language switch in the header of the interest form page (its buttons belong to the
    form: `form="interest-form"`), posted to the form's own URL with `language`: the answers
    are kept (in the session, until the form is shown again), the language cookie is set as
    Django's `set_language` sets it, and the form comes back (post/redirect/get) in that
    language with every answer. Nothing is checked or saved; only "Send my interest" sends.
    The interest view has already applied its CSRF check and rate limit.
    """
    form = InterestForm(study=study, criteria=selectors.criterion_list_for_form(study=study))
    data = drafts.draft_data_from_post(post=request.POST, field_names=form.fields)
    request.session[KEPT_SESSION_KEY] = {"study": study.pk, "data": data}
    response = redirect("recruitment:interest", slug=study.slug)
    language = request.POST.get("language", "")
    if language in dict(settings.LANGUAGES) and check_for_language(language):
        response.set_cookie(
            settings.LANGUAGE_COOKIE_NAME,
            language,
            max_age=settings.LANGUAGE_COOKIE_AGE,
            path=settings.LANGUAGE_COOKIE_PATH,
            domain=settings.LANGUAGE_COOKIE_DOMAIN,
            secure=settings.LANGUAGE_COOKIE_SECURE,
            httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
            samesite=settings.LANGUAGE_COOKIE_SAMESITE,
        )
    return response
