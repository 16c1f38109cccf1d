"""Reading rendered pages in tests: Django's HTML parser plus a few helpers, shared by the
page tests so each reads forms and text the same way."""

import re

from django.test.html import Element, parse_html

# A run of URL-safe token characters, long and mixed like a CSRF token, a signed value or a
# link token, never like a word, a name, an email address, a number or a URL path.
_RANDOM_TOKEN = re.compile(r"[A-Za-z0-9_\-+=:]{20,}")


def without_random_tokens(page: str) -> str:
    """`page` with its random tokens blanked, for tests that check a short value ("Lee",
    "555") is absent: a 64-character CSRF token holds any given three letters about once in
    4,000 pages, which made such checks fail at random."""

    def blank(match: re.Match) -> str:
        run = match.group()
        mixed = (
            any(c.isdigit() for c in run)
            and any(c.isupper() for c in run)
            and any(c.islower() for c in run)
        )
        return "[token]" if mixed else run

    return _RANDOM_TOKEN.sub(blank, page)


def parse(response) -> Element:
    return parse_html(response.content.decode())


def walk(node: Element, ancestors: tuple = ()):
    """Yield (element, its ancestors) for every element under `node`, in document order."""
    for child in node.children:
        if isinstance(child, Element):
            yield child, ancestors
            yield from walk(child, (*ancestors, child))


def elements(node: Element):
    """Every element under `node`, in document order."""
    return (element for element, _ in walk(node))


def attrs(element: Element) -> dict:
    return dict(element.attributes)


def text(node) -> str:
    if isinstance(node, str):
        return node
    return " ".join(" ".join(text(child) for child in node.children).split())


def find_all(tree: Element, tag: str, **wanted) -> list[Element]:
    return [
        element
        for element in elements(tree)
        if element.name == tag and all(attrs(element).get(k) == v for k, v in wanted.items())
    ]


def by_id(tree: Element) -> dict[str, Element]:
    return {attrs(e)["id"]: e for e in elements(tree) if "id" in attrs(e)}


def rendered_values(tree: Element) -> dict[str, str]:
    """What the form(s) under `tree` would send if the patient pressed a button now
    (whitespace collapsed in a textarea)."""
    values = {}
    for element in elements(tree):
        a = attrs(element)
        name = a.get("name")
        if not name:
            continue
        if element.name == "input":
            kind = a.get("type", "text")
            if kind in ("radio", "checkbox"):
                if "checked" in a:
                    values[name] = a.get("value") or "on"
            elif kind != "submit":
                values[name] = a.get("value", "")
        elif element.name == "textarea":
            values[name] = text(element)
        elif element.name == "select":
            selected = [o for o in find_all(element, "option") if "selected" in attrs(o)]
            values[name] = attrs(selected[0])["value"] if selected else ""
    return values
