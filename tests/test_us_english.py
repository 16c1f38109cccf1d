"""Every page and email the US study's people read is in US English: "enroll", "enrollment".

Code identifiers and URL names (`participant_enrol`, `EnrolmentSlot`, the `enrol` page) are
public contracts and stay as they are; what is checked is the text people read: every string
marked for translation in the app's Python, and the text of every template (its words, its
translated strings and its attributes people read: titles, labels, placeholders), less
comments, tags' code and HTML."""

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BRITISH = re.compile(
    r"\b(enrol|enrols|enrolment|enrolments|programme|programmes|colour|colours|colour-blind|"
    r"centre|centres|organise|organised|organisation|recognise|recognised|behaviour|"
    r"favour|licence|analyse|analysed|catalogue|judgement|cancelled|travelled|labelled|"
    r"modelled|fulfil|whilst|amongst|practise|apologise|minimise|summarise|prioritise|"
    r"authorise|authorised|normalise|normalised)\b",
    re.IGNORECASE,
)
GETTEXT = {"_", "gettext", "gettext_lazy", "ngettext", "ngettext_lazy", "pgettext", "pgettext_lazy"}
PYTHON_DIRS = ("recruitment", "accounts", "ldn_trial")


def python_sources():
    for folder in PYTHON_DIRS:
        for path in sorted((ROOT / folder).rglob("*.py")):
            if "migrations" not in path.parts:
                yield path


def marked_strings(path: Path):
    tree = ast.parse(path.read_text("utf-8"))
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
        if name not in GETTEXT:
            continue
        for arg in node.args:
            if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                yield node.lineno, arg.value


def template_text(source: str) -> str:
    """What people read in a template: its text, its translated strings and the attributes
    they read; not comments, template code or other HTML."""
    source = re.sub(r"{%\s*comment\s*%}.*?{%\s*endcomment\s*%}", " ", source, flags=re.S)
    source = re.sub(r"{#.*?#}", " ", source, flags=re.S)
    read = []
    read += re.findall(r"{%\s*translate\s+\"([^\"]*)\"", source)
    read += re.findall(r"{%\s*translate\s+'([^']*)'", source)
    read += re.findall(r"\b(?:title|aria-label|placeholder|alt)=\"([^\"{]*)\"", source)
    source = re.sub(r"{%.*?%}", " ", source, flags=re.S)
    source = re.sub(r"{{.*?}}", " ", source, flags=re.S)
    source = re.sub(r"<[^>]*>", " ", source, flags=re.S)
    return " ".join([source, *read])


def test_no_british_spelling_in_strings_marked_for_translation():
    found = [
        f"{path.relative_to(ROOT)}:{line}: {text!r}"
        for path in python_sources()
        for line, text in marked_strings(path)
        if BRITISH.search(text)
    ]
    assert not found, "\n".join(found)


def test_no_british_spelling_in_the_text_of_templates_and_emails():
    found = []
    for path in sorted((ROOT / "templates").rglob("*")):
        if path.suffix in (".html", ".txt") and path.is_file():
            for match in BRITISH.finditer(template_text(path.read_text("utf-8"))):
                found.append(f"{path.relative_to(ROOT)}: {match.group(0)!r}")
    assert not found, "\n".join(found)


@pytest.mark.parametrize(
    "text",
    [
        "Enrol the participant",
        "{% translate 'CONSORT enrolment box' %}",
        '<button title="Choose a colour">x</button>',
        "the study programme",
    ],
)
def test_the_check_finds_british_spelling_where_people_read_it(text):
    assert BRITISH.search(template_text(text))


@pytest.mark.parametrize(
    "text",
    [
        "{% url 'admin:recruitment_participant_enrol' p.pk %}",
        '<progress class="enrolment"></progress>',
        "{% comment %}enrolment progress{% endcomment %}",
        "{{ d.projection.recent_enrolments }}",
    ],
)
def test_the_check_leaves_code_identifiers_alone(text):
    assert not BRITISH.search(template_text(text))
