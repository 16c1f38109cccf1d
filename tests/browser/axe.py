"""axe-core's WCAG 2.0, 2.1 and 2.2 A and AA rules, run in the page under test: what every
browser test that audits a page shares."""

import json

from axe_playwright_python.base import AXE_SCRIPT, AxeResults
from playwright.sync_api import Page

WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]

# Only the violations are asked for in full: without `resultTypes`, axe also builds a unique
# selector and an HTML snippet for every element of every rule that passed or did not apply,
# and sends them all back to Python, the longer the page the slower. Violations are found and
# reported in full either way; the other lists keep one element a rule.
OPTIONS = {"runOnly": {"type": "tag", "values": WCAG_TAGS}, "resultTypes": ["violations"]}


def axe_run(page: Page, context: dict | None = None) -> AxeResults:
    """Audit the page as it is (or only `context`'s elements: `{"include": [["#content"]]}`).

    axe's script is injected once per document: a page that has not navigated since its last
    audit still has it (a second injection would only define it again)."""
    if not page.evaluate("typeof window.axe === 'object' && typeof window.axe.run === 'function'"):
        page.evaluate(AXE_SCRIPT)
    args = [context, OPTIONS] if context else [OPTIONS]
    return AxeResults(page.evaluate(f"axe.run({', '.join(map(json.dumps, args))})"))


def axe_violations(page: Page, context: dict | None = None) -> list[str]:
    """One line per violated rule (`axe_run`'s): id, impact, what it asks and the selectors of
    every offending element."""
    return [
        f"{v['id']} ({v['impact']}): {v['help']} -> "
        + "; ".join(" ".join(node["target"]) for node in v["nodes"])
        for v in axe_run(page, context).response["violations"]
    ]


def assert_no_axe_violation(page: Page, context: dict | None = None) -> None:
    """No violation on the page as it is (or in `context`'s elements), each one listed if any."""
    violations = axe_violations(page, context)
    assert violations == [], f"axe found violations on {page.url}:\n" + "\n".join(violations)
