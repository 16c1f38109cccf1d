"""Spanish for patients: every public page, the patient's emails and the
form are in Spanish, chosen by the browser's language or by the switch in the page header.

Two nets catch a string nobody translated: `makemessages`, run on a copy of the code, finds
every marked string a patient can meet and requires a Spanish translation for it; and each
public page rendered in Spanish is compared with the English one, so text that was never
marked for translation (it stays English) fails too.
"""

import ast
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from pathlib import Path

import polib
import pytest
from django.conf import settings
from django.core import mail
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import translation
from django.utils.functional import Promise

from recruitment import selectors
from recruitment.intake.forms import InterestForm
from recruitment.management.commands import compile_translations
from recruitment.models import Participant
from tests.factories import ldn_form_data
from tests.public_pages import render_public_pages
from tests.readability import NOT_PROSE, page_blocks

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parent.parent
PO_FILE = ROOT / "locale" / "es" / "LC_MESSAGES" / "django.po"
# What `makemessages` reads, as in docs/development.md: the code, never the tests or the virtualenv.
NOT_SCANNED = (".*", "tests", "bench", "docs", "static", "staticfiles", "locale", "*.sqlite3*")

# Where each string a patient can meet comes from. A source matching a STAFF pattern is for
# staff only and may stay English; any other must match a PATIENT pattern, so a new file has
# to be classified here before its strings pass. fnmatch patterns: "*" crosses "/".
STAFF_SOURCES = (
    "templates/admin/*",
    "templates/registration/*",
    "templates/recruitment/staff/*",
    "templates/recruitment/email/*coordinator*",
    "templates/recruitment/email/follow_ups*",  # the coordinators' follow-ups due
    "recruitment/admin/*.py",
    "accounts/apps.py",
    "recruitment/apps.py",
    "recruitment/reports/charts.py",
    "recruitment/identification.py",
    "recruitment/verdict_words.py",  # the verdicts on the staff pages
    "recruitment/intake/importer.py",
    "recruitment/intake/import_*.py",
    "recruitment/intake/staff_entry.py",  # the interest form as staff fill it in
    "accounts/templatetags/durations.py",  # the lockout page's length of time
    "accounts/views.py",
    "recruitment/reports/*.py",
    "recruitment/reports/views.py",
    "recruitment/calls/*.py",
    "recruitment/invitations/*.py",  # the registry matches and the "Invite" button
    "recruitment/registry/selectors.py",  # the match lists' group headings
    "recruitment/amendments/*.py",  # drafts of criteria and their what-if, for investigators
    "recruitment/allocation/*.py",  # the statistician's and investigators' pages
    "templates/recruitment/email/unblinding*",  # to the statistician and investigators
    "recruitment/visits/*.py",  # the visits page and the windows in words
    # Refusals shown to staff; the public views show pages instead.
    "recruitment/errors.py",
    "recruitment/evaluation.py",
    "recruitment/*/services.py",
    "recruitment/screening/*.py",
    "recruitment/intake/withdraw.py",
    "recruitment/models/*.py",  # verbose names; the form's choice labels are found on the form
    "ldn_trial/settings.py",  # language names of the admin; the switch names them itself
)
PATIENT_SOURCES = (
    "templates/base.html",
    "templates/429.html",
    "templates/[45]??.html",  # the error pages (recruitment/error_pages.py)
    "templates/error_base.html",
    "templates/recruitment/*.html",
    "templates/recruitment/includes/*",
    "templates/recruitment/email/*",
    "templates/recruitment/text/*",  # texts to patients
    "recruitment/intake/forms.py",
    "recruitment/contact.py",
    "recruitment/intake/views.py",
    "recruitment/intake/withdraw_views.py",
    "recruitment/intake/draft_views.py",
    "recruitment/intake/registry_views.py",
    "recruitment/people/consent.py",  # the registry's box on the interest form
    "recruitment/intake/invitation*.py",  # the pages behind a registry invitation's links
    "recruitment/center/forms.py",  # the center's own form (any study that may fit)
)

# Text that is the same in both languages: names, codes and the word "No".
SAME_IN_BOTH = {"No", "LDN", "ME/CFS", "ProHealth", "PatientsLikeMe", "ldn-trial", "IRB"}


# ---------------------------------------------------------------------------------------------
# A small reader of .po files (the format gettext documents), enough for these checks
# ---------------------------------------------------------------------------------------------
@dataclass
class Entry:
    msgid: str = ""
    msgid_plural: str = ""
    msgctxt: str | None = None
    msgstr: dict[int, str] = field(default_factory=dict)
    flags: set[str] = field(default_factory=set)
    sources: list[str] = field(default_factory=list)

    @property
    def translated(self) -> bool:
        return bool(self.msgstr) and all(text.strip() for text in self.msgstr.values())


def read_po(text: str) -> list[Entry]:
    entries, entry, key = [], Entry(), None

    def finish():
        nonlocal entry, key
        if key is not None:
            entries.append(entry)
        entry, key = Entry(), None

    for line in text.splitlines() + [""]:
        line = line.strip()
        if not line:
            finish()
        elif line.startswith("#~"):
            continue  # obsolete
        elif line.startswith("#,"):
            entry.flags.update(flag.strip() for flag in line[2:].split(","))
        elif line.startswith("#:"):
            entry.sources.extend(ref.rsplit(":", 1)[0] for ref in line[2:].split())
        elif line.startswith("#"):
            continue
        elif line.startswith('"'):
            value = ast.literal_eval(line)
            if isinstance(key, int):
                entry.msgstr[key] += value
            else:
                setattr(entry, key, getattr(entry, key) + value)
        else:
            word, value = line.split(" ", 1)
            match = re.fullmatch(r"msgstr\[(\d+)\]", word)
            key = int(match.group(1)) if match else word if word != "msgstr" else 0
            if isinstance(key, int):
                entry.msgstr[key] = ast.literal_eval(value)
            else:
                setattr(entry, key, ast.literal_eval(value))
    return [e for e in entries if e.msgid]


def source_kind(path: str) -> str | None:
    if any(fnmatchcase(path, pattern) for pattern in STAFF_SOURCES):
        return "staff"
    if any(fnmatchcase(path, pattern) for pattern in PATIENT_SOURCES):
        return "patient"
    return None


def form_texts(study) -> dict[str, str]:
    """English -> Spanish of every marked string on the interest form, wherever it is defined
    (the choice labels of ContactMethod, BestTime and ReferralSource live in models.py, some
    error messages in Django's own catalogue)."""
    form = InterestForm(study=study, criteria=selectors.criterion_list_for_form(study=study))
    texts = []
    for form_field in form.fields.values():
        texts += [form_field.label, form_field.help_text, *form_field.error_messages.values()]
        texts += [label for _value, label in getattr(form_field, "choices", ())]
    texts = [text for text in texts if isinstance(text, Promise)]
    with translation.override("en"):
        english = [str(text) for text in texts]
    with translation.override("es"):
        return dict(zip(english, (str(text) for text in texts), strict=True))


def fresh_catalogue(tmp_path: Path) -> list[Entry]:
    """The Spanish catalogue as `makemessages` makes it from the code now, on a copy of the
    project: strings added to the code since the .po was updated arrive untranslated."""
    copy = tmp_path / "project"
    shutil.copytree(ROOT, copy, ignore=shutil.ignore_patterns(*NOT_SCANNED))
    shutil.copytree(ROOT / "locale", copy / "locale", ignore=shutil.ignore_patterns("*.mo"))
    env = {**os.environ, "DEBUG": "1", "DJANGO_SETTINGS_MODULE": "ldn_trial.settings"}
    env.pop("DATABASE_URL", None)
    result = subprocess.run(
        [sys.executable, "manage.py", "makemessages", "-l", "es", "--no-obsolete", "-v", "0"],
        cwd=copy,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    return read_po((copy / "locale" / "es" / "LC_MESSAGES" / "django.po").read_text("utf-8"))


# ---------------------------------------------------------------------------------------------
# (a) Every string a patient can meet has a Spanish translation
# ---------------------------------------------------------------------------------------------
def test_every_string_a_patient_can_meet_has_a_spanish_translation(ldn_study, tmp_path):
    entries = fresh_catalogue(tmp_path)
    on_the_form = form_texts(ldn_study)

    unclassified = sorted({s for e in entries for s in e.sources if source_kind(s) is None})
    assert not unclassified, (
        f"Classify these files in tests/test_i18n.py (PATIENT_SOURCES or STAFF_SOURCES): "
        f"{unclassified}"
    )
    untranslated = [en for en, es in on_the_form.items() if en == es and en not in SAME_IN_BOTH]
    assert not untranslated, f"Form strings with no Spanish: {untranslated}"
    missing = [
        f"{e.msgid!r} ({', '.join(sorted(set(e.sources)))})"
        for e in entries
        if (e.msgid in on_the_form or any(source_kind(s) == "patient" for s in e.sources))
        and (not e.translated or "fuzzy" in e.flags)
    ]
    assert not missing, (
        f"{len(missing)} patient-facing strings lack a Spanish translation (or are fuzzy) in "
        f"locale/es/LC_MESSAGES/django.po; run makemessages (docs/development.md, "
        f"'Translations') and translate them:\n" + "\n".join(missing)
    )


def test_the_catalogue_has_no_fuzzy_entry_and_a_real_header():
    text = PO_FILE.read_text("utf-8")
    flags = re.findall(r"^#,.*$", text, re.M)
    assert not [line for line in flags if "fuzzy" in line]
    assert '"Language: es\\n"' in text
    assert '"Content-Type: text/plain; charset=UTF-8\\n"' in text
    assert "Plural-Forms: nplurals=" in text


def test_plural_translations_have_every_form_spanish_needs():
    for entry in read_po(PO_FILE.read_text("utf-8")):
        if entry.msgid_plural and entry.translated:
            assert sorted(entry.msgstr) == [0, 1, 2], entry.msgid


# ---------------------------------------------------------------------------------------------
# (b) No English left on a public page rendered in Spanish
# ---------------------------------------------------------------------------------------------
def _is_same_in_both(text: str, names: set[str]) -> bool:
    for pattern in NOT_PROSE:
        text = pattern.sub(" ", text)
    for name in sorted(names | SAME_IN_BOTH, key=len, reverse=True):
        text = text.replace(name, " ")
    return not re.search(r"[^\W\d_]", text)


@pytest.fixture
def pages_in_both_languages(ldn_study, django_capture_on_commit_callbacks, settings):
    def render(language):
        return render_public_pages(
            ldn_study,
            language=language,
            capture=django_capture_on_commit_callbacks,
            settings=settings,
        )

    return render("en"), render("es")


REGIONS = ("title", "header", "main", "footer")


def test_every_public_page_in_spanish_has_no_english_text_left(ldn_study, pages_in_both_languages):
    english, spanish = pages_in_both_languages
    names = {ldn_study.site_name, ldn_study.contact_email, ldn_study.contact_phone}
    left = {}
    for page, html in spanish.items():
        assert '<html lang="es">' in html, page
        english_texts = set(page_blocks(english[page], regions=REGIONS))
        same = [
            text
            for text in page_blocks(html, regions=REGIONS)
            if text in english_texts and not _is_same_in_both(text, names)
        ]
        if same:
            left[page] = same
    assert not left, "English text on Spanish pages (mark it for translation):\n" + "\n".join(
        f"{page}: {texts}" for page, texts in left.items()
    )


def test_the_spanish_pages_are_in_spanish(pages_in_both_languages):
    _english, spanish = pages_in_both_languages
    assert "Estudios que buscan participantes" in spanish["home"]
    assert "Me interesa" in spanish["study"]
    assert "Enviar mi interés" in spanish["interest"]
    assert "Corrija esto y envíe de nuevo" in spanish["interest with errors"]
    assert "Qué pasa ahora" in spanish["thanks"]


# ---------------------------------------------------------------------------------------------
# (c) The browser's language and the switch in the header
# ---------------------------------------------------------------------------------------------
STUDY_URL = "/studies/ldn-mecfs/"
FORM_URL = "/studies/ldn-mecfs/interest/"


def h1(response) -> str:
    return re.search(r"<h1>(.*?)</h1>", response.content.decode(), re.S).group(1).strip()


def test_a_browser_asking_for_spanish_gets_spanish_on_its_first_visit(ldn_study):
    response = Client(HTTP_ACCEPT_LANGUAGE="es-MX,es;q=0.9,en;q=0.5").get("/")

    assert response.status_code == 200
    assert '<html lang="es">' in response.content.decode()
    assert h1(response) == "Estudios que buscan participantes"
    assert "Accept-Language" in response["Vary"]


def test_any_other_browser_language_gets_english(ldn_study):
    response = Client(HTTP_ACCEPT_LANGUAGE="fr-FR,fr;q=0.9").get("/")

    assert '<html lang="en">' in response.content.decode()
    assert h1(response) == "Studies looking for people"


def switch_form(html: str) -> str:
    match = re.search(r'<form id="language-switch".*?</form>', html, re.S)
    assert match, "no language switch on the page"
    return match.group(0)


def test_every_public_page_has_a_switch_to_the_other_language_named_in_it(
    pages_in_both_languages,
):
    english, spanish = pages_in_both_languages
    for pages, other, label in ((english, "es", "Español"), (spanish, "en", "English")):
        for page, html in pages.items():
            form = switch_form(html)
            assert 'method="post"' in form, page
            assert f'action="{reverse("set_language")}"' in form, page
            assert 'name="csrfmiddlewaretoken"' in form, page
            assert re.search(r'<input type="hidden" name="next" value="/[^"]*">', form), page
            buttons = re.findall(r"<button[^>]*>.*?</button>", form, re.S)
            assert len(buttons) == 1, (page, buttons)
            assert f'value="{other}"' in buttons[0] and f'lang="{other}"' in buttons[0], page
            assert f">{label}</button>" in buttons[0], page


def test_the_switch_sets_the_language_for_the_next_pages_and_comes_back(ldn_study):
    browser = Client(enforce_csrf_checks=True, HTTP_ACCEPT_LANGUAGE="en")
    page = browser.get(STUDY_URL)
    assert "form-action 'self'" in page["Content-Security-Policy"]
    token = re.search(
        r'name="csrfmiddlewaretoken" value="([^"]+)"', switch_form(page.content.decode())
    ).group(1)

    switched = browser.post(
        reverse("set_language"),
        {"language": "es", "next": STUDY_URL, "csrfmiddlewaretoken": token},
    )

    assert switched.status_code == 302
    assert switched["Location"] == STUDY_URL
    assert switched.cookies[settings.LANGUAGE_COOKIE_NAME].value == "es"
    # The choice outlasts the request and beats the browser's own language.
    for url in (STUDY_URL, FORM_URL, "/"):
        response = browser.get(url)
        assert '<html lang="es">' in response.content.decode(), url
    assert "Me interesa" in browser.get(STUDY_URL).content.decode()

    back = browser.post(
        reverse("set_language"),
        {"language": "en", "next": STUDY_URL, "csrfmiddlewaretoken": token},
    )
    assert back.status_code == 302
    assert '<html lang="en">' in browser.get(STUDY_URL).content.decode()


def test_the_switch_never_sends_anyone_to_another_site(ldn_study):
    browser = Client()
    response = browser.post(
        reverse("set_language"), {"language": "es", "next": "https://evil.example/"}
    )
    assert response.status_code == 302
    assert not response["Location"].startswith("https://evil.example")


# ---------------------------------------------------------------------------------------------
# (d) A Spanish submission: Spanish thank-you page and email, the language kept
# ---------------------------------------------------------------------------------------------
def test_a_spanish_submission_keeps_spanish_and_the_coordinators_email_stays_english(
    ldn_study, django_capture_on_commit_callbacks
):
    browser = Client()
    browser.cookies[settings.LANGUAGE_COOKIE_NAME] = "es"
    with django_capture_on_commit_callbacks(execute=True):
        sent = browser.post(FORM_URL, ldn_form_data(token="3f1c0a52-7d44-4c2b-9a57-0f0f0f0f0f0f"))

    assert sent.status_code == 302
    thanks = browser.get(sent["Location"]).content.decode()
    assert '<html lang="es">' in thanks
    assert "Gracias. Recibimos sus respuestas." in thanks
    participant = Participant.objects.get()
    assert participant.language == "es"

    (confirmation,) = [m for m in mail.outbox if m.to == [participant.email]]
    assert confirmation.subject.startswith("Gracias por su interés")
    assert confirmation.body.startswith("Hola, Ann:")
    assert "Qué pasa ahora" in confirmation.body
    assert "Thank you" not in confirmation.body + confirmation.subject
    (notice,) = [m for m in mail.outbox if m.to == ["coordinators@example.edu"]]
    assert notice.body.startswith("A new person is interested in")
    assert participant.screening_number in notice.body


def patient_emails(study, language: str, capture) -> dict[str, str]:
    """The confirmation and the Save-and-finish-later emails, subject and body, as a browser
    in `language` gets them."""
    browser = Client(HTTP_ACCEPT_LANGUAGE=language)
    mail.outbox.clear()
    with capture(execute=True):
        browser.post(FORM_URL, ldn_form_data(email=f"sent-{language}@example.com"))
        browser.post(
            reverse("recruitment:draft_save", args=[study.slug]),
            ldn_form_data(email=f"saved-{language}@example.com"),
        )
    emails = {m.to[0].split("-")[0]: f"{m.subject}\n{m.body}" for m in mail.outbox}
    assert set(emails) >= {"sent", "saved"}, emails.keys()
    return {"confirmation": emails["sent"], "draft link": emails["saved"]}


def test_the_patients_emails_in_spanish_have_no_english_line_left(
    ldn_study, django_capture_on_commit_callbacks
):
    english = patient_emails(ldn_study, "en", django_capture_on_commit_callbacks)
    spanish = patient_emails(ldn_study, "es", django_capture_on_commit_callbacks)
    names = {ldn_study.site_name, ldn_study.contact_email, ldn_study.contact_phone}
    for kind, text in spanish.items():
        lines = {line.strip() for line in english[kind].splitlines()}
        left = [
            line
            for line in text.splitlines()
            if line.strip() in lines and not _is_same_in_both(line, names)
        ]
        assert not left, f"English lines in the Spanish {kind} email: {left}"


def test_an_english_submission_is_answered_in_english(
    ldn_study, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        Client(HTTP_ACCEPT_LANGUAGE="en").post(FORM_URL, ldn_form_data())

    participant = Participant.objects.get()
    assert participant.language == "en"
    (confirmation,) = [m for m in mail.outbox if m.to == [participant.email]]
    assert confirmation.body.startswith("Hello Ann,")


def test_spanish_form_errors_are_in_spanish_and_keep_what_was_typed(ldn_study):
    response = Client(HTTP_ACCEPT_LANGUAGE="es").post(
        FORM_URL, ldn_form_data(email="no-es-un-correo", first_name="Ana María")
    )

    body = response.content.decode()
    assert response.status_code == 200
    assert '<html lang="es">' in body
    assert 'value="Ana María"' in body
    assert 'value="no-es-un-correo"' in body
    assert "Escriba un correo electrónico como nombre@ejemplo.com." in body


# ---------------------------------------------------------------------------------------------
# Compiling without GNU gettext
# ---------------------------------------------------------------------------------------------
def _catalogue(mo: Path) -> dict:
    """A compiled catalogue, read with polib as gettext keys it: the header under "", a
    message under its id (context first, as gettext joins them), each plural form apart."""
    compiled = polib.mofile(str(mo))
    catalogue = {"": "".join(f"{key}: {value}\n" for key, value in compiled.metadata.items())}
    for entry in compiled:
        key = f"{entry.msgctxt}\x04{entry.msgid}" if entry.msgctxt else entry.msgid
        if entry.msgid_plural:
            catalogue.update({(key, n): text for n, text in entry.msgstr_plural.items()})
        else:
            catalogue[key] = entry.msgstr
    return catalogue


@pytest.mark.skipif(not shutil.which("msgfmt"), reason="GNU gettext (msgfmt) is not installed")
def test_polib_compiles_the_same_catalogue_as_msgfmt(tmp_path):
    """`compile_translations` uses polib where msgfmt is missing: the pages must read alike."""
    (po,) = compile_translations.po_files()
    by_msgfmt = tmp_path / "msgfmt.mo"
    by_polib = tmp_path / "polib.mo"
    msgfmt = [shutil.which("msgfmt"), "--check-format", "-o", str(by_msgfmt), str(po)]
    subprocess.run(msgfmt, check=True)  # noqa: S603 (GNU gettext on our own catalogue)

    compile_translations.compile_with_polib(po, by_polib)

    catalogue, reference = _catalogue(by_polib), _catalogue(by_msgfmt)
    # Every message and plural form alike; the header only orders its fields differently.
    header, reference_header = catalogue.pop(""), reference.pop("")
    assert catalogue == reference
    assert re.search(r"Plural-Forms: .*", reference_header).group() in header
    assert catalogue["Send my interest"] == "Enviar mi interés"


def test_without_msgfmt_the_command_compiles_with_polib(tmp_path, settings, monkeypatch):
    locale = tmp_path / "locale" / "es" / "LC_MESSAGES"
    locale.mkdir(parents=True)
    (po,) = compile_translations.po_files()
    shutil.copy(po, locale / "django.po")
    settings.LOCALE_PATHS = [tmp_path / "locale"]
    monkeypatch.setenv("PATH", str(tmp_path))  # no msgfmt on it

    call_command("compile_translations", verbosity=0)

    assert _catalogue(locale / "django.mo")["Send my interest"] == "Enviar mi interés"
