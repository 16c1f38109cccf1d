"""The whole patient journey with the keyboard alone: Tab, Shift+Tab, Space, Enter and the
arrow keys, as a person who cannot use a mouse or a touch screen does it.

No click and no `fill`: the test moves focus with Tab, types with the keyboard, picks radio
buttons with Space and the arrow keys, and checks at every stop that the focused element shows
a visible focus ring. After a failed submission focus is on the error summary, and each of its
links takes focus to the field to fix.
"""

import pytest
from playwright.sync_api import Page, expect

from recruitment.intake.forms import CONTACT_METHOD_NEEDED, ZIP_INVALID
from recruitment.models import Participant
from recruitment.studies.services import study_load_file
from tests.conftest import LDN_FILE
from tests.factories import ldn_form_data

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# More Tab presses than any page has stops: a missing element fails instead of looping.
MAX_STOPS = 200

# What the focused element is, and whether it shows a focus indicator (an outline or a box
# shadow: Bootstrap draws rings with box-shadow, site.css adds a 3px outline).
FOCUSED = """async () => {
  const el = document.activeElement;
  // Read the ring once Bootstrap's short focus transition has ended.
  await Promise.all(el.getAnimations().map(animation => animation.finished));
  const style = getComputedStyle(el);
  const group = el.closest('fieldset, [role=group], [role=radiogroup]');
  let groupName = '';
  if (group) {
    const legend = group.querySelector('legend');
    const labelledBy = group.getAttribute('aria-labelledby');
    groupName = legend ? legend.textContent
      : labelledBy ? document.getElementById(labelledBy).textContent : '';
  }
  return {
    tag: el.tagName.toLowerCase(),
    type: (el.getAttribute('type') || '').toLowerCase(),
    id: el.id,
    value: el.value,
    name: el.getAttribute('name') || '',
    href: el.getAttribute('href') || '',
    text: (el.innerText || el.value || '').trim(),
    label: el.labels && el.labels.length ? el.labels[0].innerText.trim() : '',
    group: groupName.replace(/\\s+/g, ' ').trim(),
    // False when focus is inside a native control's own part (a date field's calendar
    // button), which the browser draws its own ring around.
    focused: el.matches(':focus'),
    ring: (style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) > 0)
      || style.boxShadow !== 'none',
  };
}"""


def kind(element: dict) -> str:
    if element["tag"] == "input":
        if element["type"] in ("submit", "button"):
            return "button"
        return element["type"] if element["type"] in ("radio", "checkbox") else "input"
    return {"a": "link"}.get(element["tag"], element["tag"])


class Keyboard:
    """Moves through a page with Tab and Shift+Tab, checking every focus ring on the way."""

    def __init__(self, page: Page):
        self.page = page
        self.kinds_seen: set[str] = set()

    def focused(self) -> dict:
        element = self.page.evaluate(FOCUSED)
        if element["focused"] and element["tag"] not in ("body", "main"):
            assert element["ring"], f"no visible focus ring on {element}"
            self.kinds_seen.add(kind(element))
        return element

    def tab_to(self, wanted, *, backwards: bool = False) -> dict:
        """Press Tab (or Shift+Tab) until `wanted(focused element)` is true."""
        for _ in range(MAX_STOPS):
            self.page.keyboard.press("Shift+Tab" if backwards else "Tab")
            element = self.focused()
            if wanted(element):
                return element
        raise AssertionError(f"Tab never reached the element wanted on {self.page.url}: {element}")

    def tab_to_id(self, element_id: str, **kwargs) -> dict:
        return self.tab_to(lambda e: e["id"] == element_id, **kwargs)

    def type_into(self, element_id: str, text: str) -> None:
        self.tab_to_id(element_id)
        self.page.keyboard.type(text)

    def choose_radio(self, answer: str, options: list[str], *, by: str = "label") -> None:
        """Focus is on a radio group's first button: pick `answer` (its label, or its value)
        with Space or the arrow keys."""
        steps = options.index(answer)
        if steps == 0:
            self.page.keyboard.press("Space")
        for _ in range(steps):
            self.page.keyboard.press("ArrowDown")  # moves to the next button and checks it
        element = self.focused()
        assert element[by] == answer
        assert self.page.evaluate("document.activeElement.checked") is True


def answer_health_questions(keys: Keyboard) -> None:
    """Tab through the health section; answer each question (by its field's name, so the test
    does not depend on the wording) as it comes."""
    unanswered = {name: value for name, value in ldn_form_data().items() if name.startswith("q_")}
    while unanswered:
        element = keys.tab_to(lambda e: e["type"] == "radio" and e["name"] in unanswered)
        values = keys.page.evaluate(
            "name => [...document.getElementsByName(name)].map(radio => radio.value)",
            element["name"],
        )
        keys.choose_radio(unanswered.pop(element["name"]), values, by="value")


def test_a_patient_completes_the_whole_journey_with_the_keyboard_alone(page, live_server):
    study_load_file(path=LDN_FILE)
    keys = Keyboard(page)
    page.goto(live_server.url + "/")

    # Home page to the study page to the form, following links with Enter.
    keys.tab_to(lambda e: e["tag"] == "a" and e["text"] == "Read about LDN for ME/CFS")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Low-dose naltrexone (LDN) for ME/CFS"
    )
    keys.tab_to(lambda e: e["tag"] == "a" and e["text"] == "I'm interested")
    page.keyboard.press("Enter")
    expect(page.locator("#interest-form")).to_be_visible()

    # The form, with a ZIP code too short and no contact method chosen.
    keys.type_into("id_first_name", "Ann")
    keys.type_into("id_last_name", "Lee")
    keys.type_into("id_date_of_birth", "04281980")  # the date field's month, day and year
    keys.type_into("id_zip_code", "3529")
    keys.type_into("id_email", "ann.lee@example.com")
    keys.type_into("id_phone", "(205) 555-0134")
    answer_health_questions(keys)
    keys.tab_to_id("id_referral_source")
    page.keyboard.type("ProHealth")  # a closed list picks the option its name starts with
    assert page.evaluate("document.activeElement.value") == "prohealth"
    keys.tab_to_id("id_contact_consent")
    page.keyboard.press("Space")
    assert page.evaluate("document.activeElement.checked") is True
    keys.tab_to(lambda e: kind(e) == "button" and e["text"] == "Send my interest")
    page.keyboard.press("Enter")

    # Focus lands on the error summary, whose links lead to the fields to fix.
    expect(page.locator("#error-summary")).to_be_visible()
    assert page.evaluate("document.activeElement.id") == "error-summary"
    links = page.locator("#error-summary a")
    expect(links).to_have_text([str(ZIP_INVALID), str(CONTACT_METHOD_NEEDED)])

    keys.tab_to(lambda e: e["href"] == "#id_zip_code")
    page.keyboard.press("Enter")
    assert keys.focused()["id"] == "id_zip_code"
    page.keyboard.press("Control+A")
    page.keyboard.type("35203")

    keys.tab_to(lambda e: e["href"] == "#id_preferred_contact_0", backwards=True)
    page.keyboard.press("Enter")
    element = keys.focused()
    assert element["id"] == "id_preferred_contact_0"  # the group's first radio button
    keys.choose_radio("Phone call", ["Phone call", "Text message", "Email"])
    page.keyboard.press("Tab")  # into the next group: best time to reach you
    keys.choose_radio("Afternoon (12 to 5)", ["Morning (9 to 12)", "Afternoon (12 to 5)"])

    keys.tab_to(lambda e: kind(e) == "button" and e["text"] == "Send my interest")
    page.keyboard.press("Enter")

    expect(page.locator("#screening-number")).to_have_text("LDN-S-0001")
    participant = Participant.objects.get()
    assert participant.zip_code == "35203"
    assert participant.preferred_contact == "phone"
    assert participant.best_time == "afternoon"
    assert participant.referral_source == "prohealth"
    assert participant.date_of_birth.isoformat() == "1980-04-28"
    # Every kind of control the journey used showed a focus ring (checked in `focused`).
    assert {"link", "button", "input", "radio", "checkbox", "select"} <= keys.kinds_seen


def test_a_person_joins_the_registry_through_the_center_form_with_the_keyboard_alone(
    page, live_server
):
    from recruitment.center.forms import REGISTRY_CONSENT_NEEDED
    from recruitment.models import Person
    from tests.center.test_center_form import center_data

    study_load_file(path=LDN_FILE)
    keys = Keyboard(page)
    page.goto(live_server.url + "/")
    keys.tab_to(
        lambda e: e["tag"] == "a" and e["text"] == "I'm interested in any study that may fit me"
    )
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Hear about studies that may fit you")

    keys.type_into("id_first_name", "Rosa")
    keys.type_into("id_last_name", "Diaz")
    keys.type_into("id_date_of_birth", "03141979")
    keys.type_into("id_zip_code", "35203")
    keys.type_into("id_email", "rosa.diaz@example.com")
    unanswered = {name: value for name, value in center_data().items() if name.startswith("q_")}
    while unanswered:
        element = keys.tab_to(lambda e: e["type"] == "radio" and e["name"] in unanswered)
        values = page.evaluate(
            "name => [...document.getElementsByName(name)].map(radio => radio.value)",
            element["name"],
        )
        keys.choose_radio(unanswered.pop(element["name"]), values, by="value")
    # The registry's box left unticked: the one error.
    keys.tab_to(lambda e: kind(e) == "button" and e["text"] == "Send my interest")
    page.keyboard.press("Enter")

    expect(page.locator("#error-summary")).to_be_visible()
    expect(page.locator("#error-summary a")).to_have_text([str(REGISTRY_CONSENT_NEEDED)])
    keys.tab_to(lambda e: e["href"] == "#id_registry_consent")
    page.keyboard.press("Enter")
    assert keys.focused()["id"] == "id_registry_consent"
    page.keyboard.press("Space")
    keys.tab_to(lambda e: kind(e) == "button" and e["text"] == "Send my interest")
    page.keyboard.press("Enter")

    expect(page.get_by_role("heading", level=1)).to_have_text("Thank you. We got your answers.")
    person = Person.objects.get()
    assert person.in_registry and person.email == "rosa.diaz@example.com"
