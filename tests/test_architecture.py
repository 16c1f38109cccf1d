"""The layers of docs/architecture.md, checked on the source: a lower layer never imports a
higher one, the engine imports no Django, services import no views, nothing imports `bench`."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
APP_PACKAGES = ("recruitment", "accounts", "ldn_trial")


def modules() -> dict[str, Path]:
    found = {}
    for package in APP_PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            dotted = ".".join(path.relative_to(ROOT).with_suffix("").parts)
            found[dotted.removesuffix(".__init__")] = path
    return found


def imports_of(path: Path) -> set[str]:
    """Every module a file imports, by its full dotted name (`from a import b` gives `a.b`
    too, since b may be a module)."""
    names = set()
    package = ".".join(path.relative_to(ROOT).with_suffix("").parts[:-1])
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parent, base] if base else parent)
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)
    return names


MODULES = modules()
IMPORTS = {name: imports_of(path) for name, path in MODULES.items()}


def importers_of(prefixes: tuple[str, ...], among: tuple[str, ...]) -> list[tuple[str, str]]:
    return sorted(
        (module, imported)
        for module, imported_names in IMPORTS.items()
        if module.startswith(among)
        for imported in imported_names
        if imported.startswith(prefixes)
    )


# Each context, and the contexts it may not import (the ones above it in docs/architecture.md).
HIGHER = {
    "recruitment.eligibility": ("django", "recruitment", "accounts", "ldn_trial"),
    "recruitment.unicode_text": ("django", "recruitment", "accounts", "ldn_trial"),
    "recruitment.calls.working_days": ("django", "recruitment", "accounts", "ldn_trial"),
    "recruitment.models": (
        "recruitment.visits",
        "recruitment.allocation",
        "recruitment.notifications",
        "recruitment.registry",
        "recruitment.studies",
        "recruitment.screening",
        "recruitment.intake",
        "recruitment.reports",
        "recruitment.admin",
        "accounts",
    ),
    "recruitment.notifications": (
        "recruitment.visits",
        "recruitment.allocation",
        "recruitment.studies",
        "recruitment.screening",
        "recruitment.intake",
        "recruitment.reports",
        "recruitment.admin",
        "accounts",
    ),
    # The registry's matching sits beside the email tasks: the study loader and the admin
    # queue its task; it reads the models and the engine, and queues through notifications.
    "recruitment.registry": (
        "recruitment.studies",
        "recruitment.screening",
        "recruitment.intake",
        "recruitment.reports",
        "recruitment.calls",
        "recruitment.admin",
        "accounts",
    ),
    "recruitment.studies": (
        "recruitment.visits",
        "recruitment.allocation",
        "recruitment.screening",
        "recruitment.intake",
        "recruitment.reports",
        "recruitment.admin",
    ),
    "recruitment.people": (
        "recruitment.screening",
        "recruitment.intake",
        "recruitment.reports",
        "recruitment.admin",
        "recruitment.calls",
    ),
    "recruitment.screening": ("recruitment.intake", "recruitment.reports", "recruitment.admin"),
    "recruitment.intake": ("recruitment.reports", "recruitment.admin"),
    "recruitment.reports": ("recruitment.intake", "recruitment.admin"),
    "recruitment.calls": ("recruitment.intake", "recruitment.admin", "recruitment.reports"),
    # Registry matches and the "Invite" button (staff); the person's answer is in intake.
    "recruitment.invitations": ("recruitment.intake", "recruitment.admin", "recruitment.reports"),
    # Its pages' URLs are in reports/urls.py; the CSV uses the exports' streaming writer.
    "recruitment.amendments": ("recruitment.intake", "recruitment.admin", "recruitment.screening"),
    # The center's form builds on the interest form's; its staff page's URL is in reports/urls.py.
    "recruitment.center": ("recruitment.admin", "recruitment.reports", "recruitment.screening"),
    # Texts deliver and record STOP; what to send and when is decided above them.
    "recruitment.texts": (
        "recruitment.notifications",
        "recruitment.visits",
        "recruitment.studies",
        "recruitment.screening",
        "recruitment.intake",
        "recruitment.reports",
        "recruitment.admin",
        "recruitment.calls",
        "accounts",
    ),
    "recruitment.visits": (
        "recruitment.screening",
        "recruitment.intake",
        "recruitment.reports",
        "recruitment.admin",
        "recruitment.calls",
    ),
    # Enrollment (screening) takes an allocation row; the dashboard and exports read counts.
    "recruitment.allocation": (
        "recruitment.screening",
        "recruitment.intake",
        "recruitment.reports",
        "recruitment.admin",
        "recruitment.calls",
    ),
    "accounts": (
        "recruitment.admin",
        "recruitment.reports",
        "recruitment.intake",
        "recruitment.calls",
        "recruitment.allocation",
    ),
}


@pytest.mark.parametrize("lower", sorted(HIGHER))
def test_a_lower_layer_imports_nothing_above_it(lower):
    allowed_engine = ("recruitment.eligibility", "recruitment.unicode_text")
    found = [
        (module, imported)
        for module, imported in importers_of(HIGHER[lower], (lower,))
        if not (lower in allowed_engine and imported.startswith(allowed_engine))
    ]

    assert found == []


def test_services_and_selectors_import_no_views_forms_admin_or_urls():
    service_modules = tuple(
        name
        for name in MODULES
        if name.rsplit(".", 1)[-1]
        in {
            "services",
            "selectors",
            "evaluation",
            "retention",
            "withdraw",
            "errors",
            "models",
            "tasks",
            "emails",
            "delivery",
            "queue",
        }
    )
    ui = [
        (module, imported)
        for module in service_modules
        for imported in IMPORTS[module]
        if imported.startswith(("recruitment", "accounts"))
        and imported.rsplit(".", 1)[-1]
        in {"views", "draft_views", "withdraw_views", "admin", "urls", "forms", "error_pages"}
    ]

    assert ui == []


def test_nothing_in_the_app_imports_the_benchmark():
    assert importers_of(("bench",), APP_PACKAGES) == []


def test_the_check_reads_the_modules_it_guards():
    """Guards the test itself: a wrong root would find nothing and pass."""
    assert "recruitment.screening.services" in MODULES
    assert "recruitment.eligibility" in MODULES
    assert "django.db.models" in IMPORTS["recruitment.models.participants"]


# Names with a leading underscore that the projects document as their public API: Django's
# `Model._meta` (the Model _meta API) and django-simple-history's `_history_user` and
# `_change_reason` (how its documentation says to name who made a change, and why).
DOCUMENTED_UNDERSCORE_NAMES = {"_meta", "_history_user", "_change_reason"}
OUR_PACKAGES = (*APP_PACKAGES, "bench", "tests")


def private_uses(path: Path) -> list[str]:
    """Imports of another project's underscore names, and attribute reads of underscore names
    on anything but `self`/`cls` (a module, another object: its internals)."""
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and not (node.module or "").startswith(OUR_PACKAGES):
            found += [f"from {node.module} import {a.name}" for a in node.names if a.name[0] == "_"]
        elif (
            isinstance(node, ast.Attribute)
            and node.attr.startswith("_")
            and not node.attr.startswith("__")
            and node.attr not in DOCUMENTED_UNDERSCORE_NAMES
            and not (isinstance(node.value, ast.Name) and node.value.id in ("self", "cls"))
        ):
            found.append(f"{path.name}:{node.lineno} {ast.unparse(node)}")
    return found


def test_no_code_reaches_into_another_projects_private_names():
    files = [
        path
        for package in OUR_PACKAGES
        for path in (ROOT / package).rglob("*.py")
        if "migrations" not in path.parts
    ]

    assert [use for path in files for use in private_uses(path)] == []


def test_the_private_name_check_finds_what_it_looks_for(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text(
        "from textstat.backend.counts import _count_syllables\n"
        "admin.site._registry\n"
        "self._own = 1\n"
        "Participant._meta\n"
    )

    assert private_uses(sample) == [
        "from textstat.backend.counts import _count_syllables",
        "sample.py:2 admin.site._registry",
    ]
