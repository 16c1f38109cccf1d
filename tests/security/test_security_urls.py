"""Every URL is protected unless it is on an explicit public allow-list.

The test walks the whole URLconf (admin included: every registered model's patterns, the
custom admin pages, the staff pages and exports), fills each pattern's parameters with real
objects, and requires a redirect to the login page or a 403 for an anonymous user and for a
logged-in user who is not staff, on GET and on POST. A pattern that is neither public nor in
the reviewed list of protected patterns fails the test, so whoever adds a URL must classify it.

No protected URL may answer 404 or 405 to these users: every one checks who is asking before
it looks at the method, the parameters or the object (`AdminSite.admin_view` and
`staff_required` run first), so a 404 or 405 would mean a view reads its input before it
checks access.
"""

import re

import pytest
from django.apps import apps
from django.contrib.admin import site
from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, resolve, reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import roles
from accounts.services import roles_ensure
from recruitment.models import Participant
from tests.factories import StaffFactory, StudyFactory, UserFactory, submit
from tests.html_reading import without_random_tokens

pytestmark = pytest.mark.django_db

SLUG = "ldn-mecfs"

# Reachable by anyone; each entry says why.
PUBLIC = {
    "healthz": "the load balancer's health check: no data",
    "": "home: the recruiting studies",
    "studies/<slug:slug>/": "the study page",
    "studies/<slug:slug>/interest/": "the interest form",
    "studies/<slug:slug>/interest/thanks/": "thank-you page (number only from the session)",
    "studies/<slug:slug>/interest/save/": "save the form to finish later (POST; rate-limited)",
    "studies/<slug:slug>/interest/saved/": "says where the link went (from the session only)",
    "studies/<slug:slug>/interest/resume/<str:token>/": "the patient's link to a saved form",
    "withdraw/<str:token>/": "the patient's signed withdraw link",
    "registry/invitation/<str:token>/": "a registry member's signed yes / no to an invitation",
    "registry/leave/<str:token>/": "the signed link to leave the registry (email footer)",
    "admin/login/": "the staff login page",
    "favicon.ico": "redirects to the app's icon (a static file); reads nothing",
    "i18n/setlang/": "the language switch: sets a cookie, reads nothing",
    "texts/inbound/": "replies to our texts, posted by the provider: refused unless signed",
    "center/interest/": "the center's form for any study that may fit (rate-limited)",
    "center/interest/thanks/": "the center form's thank-you page: the same for everyone",
}

# Reviewed: each of these must refuse anonymous and non-staff users.
PROTECTED = {
    "admin/",
    "admin/logout/",
    "admin/password_change/",
    "admin/password_change/done/",
    "admin/autocomplete/",
    "admin/jsi18n/",
    "admin/r/<path:content_type_id>/<path:object_id>/",
    "admin/auth/group/",
    "admin/auth/group/add/",
    "admin/auth/group/<path:object_id>/history/",
    "admin/auth/group/<path:object_id>/delete/",
    "admin/auth/group/<path:object_id>/change/",
    "admin/auth/group/<path:object_id>/",
    "admin/auth/user/<id>/password/",
    "admin/auth/user/",
    "admin/auth/user/add/",
    "admin/auth/user/<path:object_id>/history/",
    "admin/auth/user/<path:object_id>/delete/",
    "admin/auth/user/<path:object_id>/change/",
    "admin/auth/user/<path:object_id>/",
    "admin/recruitment/study/<path:object_id>/import/template/",
    "admin/recruitment/study/<path:object_id>/import/",
    "admin/recruitment/study/",
    "admin/recruitment/study/add/",
    "admin/recruitment/study/<path:object_id>/history/",
    "admin/recruitment/study/<path:object_id>/delete/",
    "admin/recruitment/study/<path:object_id>/change/",
    "admin/recruitment/study/<path:object_id>/",
    "admin/recruitment/participant/<path:object_id>/status/",
    "admin/recruitment/participant/<path:object_id>/consent/",
    "admin/recruitment/participant/<path:object_id>/enrol/",
    "admin/recruitment/participant/<path:object_id>/lab-values/",
    "admin/recruitment/participant/<path:object_id>/eligibility-override/",
    "admin/recruitment/participant/<path:object_id>/contact/",
    "admin/recruitment/participant/<path:object_id>/duplicate/confirm/",
    "admin/recruitment/participant/<path:object_id>/duplicate/dismiss/",
    "admin/recruitment/participant/<path:object_id>/rule-out/",
    "admin/recruitment/participant/<path:object_id>/verify-answers/",
    "admin/recruitment/participant/<path:object_id>/note/",
    "admin/recruitment/participant/<path:object_id>/visits/",
    "admin/recruitment/participant/<path:object_id>/visits/rebook/",
    "admin/recruitment/participant/<path:object_id>/visits/cancel/",
    "admin/recruitment/participant/<path:object_id>/visits/outcome/",
    "admin/recruitment/participant/<path:object_id>/texts/stop/",
    "admin/recruitment/participant/<path:object_id>/texts/start/",
    "admin/recruitment/participant/<path:object_id>/run-in/start/",
    "admin/recruitment/participant/<path:object_id>/run-in/adherence/",
    "admin/recruitment/participant/<path:object_id>/run-in/failed/",
    "admin/recruitment/participant/<path:object_id>/run-in/override/",
    "admin/recruitment/participant/^([^/]+)/history/([^/]+)/$",
    "admin/recruitment/participant/",
    "admin/recruitment/participant/add/",
    "admin/recruitment/participant/<path:object_id>/history/",
    "admin/recruitment/participant/<path:object_id>/delete/",
    "admin/recruitment/participant/<path:object_id>/change/",
    "admin/recruitment/participant/<path:object_id>/",
    "admin/^(?P<app_label>...)/$",
    "admin/axes/accessattempt/",
    "admin/axes/accessattempt/<path:object_id>/",
    "admin/axes/accessattempt/<path:object_id>/change/",
    "admin/axes/accessattempt/<path:object_id>/delete/",
    "admin/axes/accessattempt/<path:object_id>/history/",
    "admin/axes/accessattempt/add/",
    "admin/axes/accessfailurelog/",
    "admin/axes/accessfailurelog/<path:object_id>/",
    "admin/axes/accessfailurelog/<path:object_id>/change/",
    "admin/axes/accessfailurelog/<path:object_id>/delete/",
    "admin/axes/accessfailurelog/<path:object_id>/history/",
    "admin/axes/accessfailurelog/add/",
    "admin/axes/accesslog/",
    "admin/axes/accesslog/<path:object_id>/",
    "admin/axes/accesslog/<path:object_id>/change/",
    "admin/axes/accesslog/<path:object_id>/delete/",
    "admin/axes/accesslog/<path:object_id>/history/",
    "admin/axes/accesslog/add/",
    "admin/otp_totp/totpdevice/",
    "admin/otp_totp/totpdevice/<int:pk>/config/",
    "admin/otp_totp/totpdevice/<int:pk>/qrcode/",
    "admin/otp_totp/totpdevice/<path:object_id>/",
    "admin/otp_totp/totpdevice/<path:object_id>/change/",
    "admin/otp_totp/totpdevice/<path:object_id>/delete/",
    "admin/otp_totp/totpdevice/<path:object_id>/history/",
    "admin/otp_totp/totpdevice/add/",
    # The task queue's rows (django-tasks-db): read-only, ids only, for superusers.
    "admin/django_tasks_database/dbtaskresult/",
    "admin/django_tasks_database/dbtaskresult/<path:object_id>/",
    "admin/django_tasks_database/dbtaskresult/<path:object_id>/change/",
    "admin/django_tasks_database/dbtaskresult/<path:object_id>/delete/",
    "admin/django_tasks_database/dbtaskresult/<path:object_id>/history/",
    "admin/django_tasks_database/dbtaskresult/add/",
    # Signed-in staff only: anonymous users go to the login page, others get 403.
    "staff/2fa/enrol/",
    "staff/2fa/verify/",
    "admin/(?P<url>.*)$",
    "staff/",
    "staff/calls/",
    "staff/start/",
    "staff/visits/",
    "staff/studies/<slug:slug>/screening-log.csv",
    "staff/studies/<slug:slug>/identification-list.csv",
    "staff/studies/<slug:slug>/fhir-bundle.json",
    "staff/registry/",
    "staff/studies/<slug:slug>/amendments/",
    "staff/studies/<slug:slug>/amendments/<int:pk>/",
    "staff/studies/<slug:slug>/amendments/<int:pk>/what-if.csv",
    "staff/registry/<slug:slug>/matches/",
    "staff/registry/<slug:slug>/matches/<int:number>/invite/",
    # The registry invitations' audit: read-only, the staff's studies only.
    "admin/recruitment/registryinvitation/",
    "admin/recruitment/registryinvitation/add/",
    "admin/recruitment/registryinvitation/<path:object_id>/history/",
    "admin/recruitment/registryinvitation/<path:object_id>/delete/",
    "admin/recruitment/registryinvitation/<path:object_id>/change/",
    "admin/recruitment/registryinvitation/<path:object_id>/",
    # Concealed allocation: the statistician's list, strata, unblinding and its report.
    "staff/allocation/<slug:slug>/",
    "staff/allocation/<slug:slug>/unblindings/",
    "staff/allocation/<slug:slug>/participants/<int:pk>/stratum/",
    "staff/allocation/<slug:slug>/participants/<int:pk>/unblind/",
}

# Patterns written as regular expressions, filled by hand ({...} from `objects`).
REGEX_URLS = {
    "admin/recruitment/participant/^([^/]+)/history/([^/]+)/$": [
        "/admin/recruitment/participant/{participant}/history/{participant_history}/"
    ],
    "admin/^(?P<app_label>...)/$": [
        f"/admin/{label}/"
        for label in sorted({m._meta.app_label for m in apps.get_models() if site.is_registered(m)})
    ],
    "admin/(?P<url>.*)$": ["/admin/no-such-page/"],
}

# Logging out is the one protected admin URL that sends a stranger to the admin index (itself
# protected, see above) rather than to the login page.
REDIRECTS_TO_INDEX = {"admin/logout/"}


def canonical(route: str) -> str:
    """The route text, with the admin's list of app labels (it grows with each app) elided."""
    return re.sub(r"\(\?P<app_label>[^)]*\)", "(?P<app_label>...)", route)


def walk(resolver: URLResolver | None = None, prefix: str = ""):
    """Every pattern in the URLconf as its full route text, depth first."""
    resolver = resolver or get_resolver()
    for pattern in resolver.url_patterns:
        route = canonical(prefix + str(pattern.pattern))
        if isinstance(pattern, URLResolver):
            yield from walk(pattern, route)
        else:
            assert isinstance(pattern, URLPattern)
            yield route


def parameter_for(route: str, name: str, objects: dict) -> str:
    if name == "slug":
        return SLUG
    if name == "token":
        return "not-a-real-token.abc123"
    if name == "number":  # a registry match's number in its study
        return "1"
    if name == "content_type_id":
        return str(objects["participant_type"])
    if name == "id":  # the admin's password page of a user
        return str(objects["user"])
    if name == "pk":  # django-otp's admin pages of a device
        return str(objects["totpdevice"])
    if name == "object_id":
        if route.startswith("admin/r/"):
            return str(objects["participant"])
        model = re.match(r"admin/\w+/(\w+)/", route).group(1)
        return str(objects.get(model, 1))  # axes' log rows: none needed, access comes first
    raise AssertionError(f"No value for <{name}> in {route!r}: add one to parameter_for().")


def urls_for(route: str, objects: dict) -> list[str]:
    if route in REGEX_URLS:
        return [url.format(**objects) for url in REGEX_URLS[route]]
    filled = re.sub(r"<(?:\w+:)?(\w+)>", lambda m: parameter_for(route, m.group(1), objects), route)
    return ["/" + filled]


@pytest.fixture
def objects(ldn_study):
    """One existing object of each kind the patterns name, by primary key."""
    participant = submit(ldn_study)
    roles_ensure()
    staff_user = StaffFactory(username="someone-staff")
    return {
        "totpdevice": TOTPDevice.objects.create(user=staff_user, name="phone").pk,
        "participant": participant.pk,
        "participant_history": participant.history.latest().history_id,
        "participant_type": ContentType.objects.get_for_model(Participant).pk,
        "study": ldn_study.pk,
        "user": staff_user.pk,
        "group": Group.objects.get(name=roles.COORDINATOR).pk,
    }


def test_every_url_is_classified_as_public_or_protected():
    walked = list(walk())
    assert len(walked) == len(set(walked)), "two patterns with the same route text"
    unclassified = set(walked) - PUBLIC.keys() - PROTECTED
    gone = (PUBLIC.keys() | PROTECTED) - set(walked)
    assert not unclassified, (
        f"New URL patterns {sorted(unclassified)}: add each to PUBLIC (with why) or PROTECTED."
    )
    assert not gone, f"Patterns no longer in the URLconf: {sorted(gone)}; remove them here."
    assert not PUBLIC.keys() & PROTECTED


def test_each_filled_url_resolves_to_the_pattern_it_was_made_from(objects):
    for route in walk():
        for url in urls_for(route, objects):
            # Django drops the "^" of a nested regular expression from `route`.
            resolved = canonical(resolve(url).route)
            assert resolved.replace("^", "") == route.replace("^", ""), url


def refusal(response, route: str) -> str | None:
    """None if the response refuses the user; otherwise what is wrong with it."""
    if response.status_code == 403:
        return None
    if response.status_code == 302:
        location = response["Location"]
        if location.startswith(f"{reverse('admin:login')}?next="):
            return None
        if route in REDIRECTS_TO_INDEX and location == reverse("admin:index"):
            return None
        return f"302 to {location}"
    return str(response.status_code)


@pytest.fixture(params=["anonymous", "non-staff"])
def outsider_client(request, db):
    client = Client()
    if request.param == "non-staff":
        client.force_login(UserFactory(username="patient-account", is_staff=False))
    return client


@pytest.mark.parametrize("method", ["get", "post"])
def test_every_protected_url_refuses_anonymous_and_non_staff_users(
    outsider_client, objects, method
):
    failures = []
    for route in walk():
        if route in PUBLIC:
            continue
        for url in urls_for(route, objects):
            response = getattr(outsider_client, method)(url, {"status": "enrolled"})
            problem = refusal(response, route)
            if problem:
                failures.append(f"{method.upper()} {url}: {problem}")
    assert failures == []


@pytest.mark.parametrize("method", ["get", "post"])
def test_the_public_urls_answer_anyone_without_a_server_error(outsider_client, objects, method):
    for route in PUBLIC:
        for url in urls_for(route, objects):
            response = getattr(outsider_client, method)(url)
            assert response.status_code < 500, f"{method.upper()} {url}"


# ---------------------------------------------------------------------------------------------
# Staff of another study
# ---------------------------------------------------------------------------------------------
@pytest.fixture
def stranger(db):
    """A coordinator (every participant permission) of another study only."""
    user = StaffFactory(username="stranger")
    user.groups.add(roles_ensure()[roles.COORDINATOR])
    StudyFactory(short_title="Other study").members.add(user)
    return user


def their_data(ldn_study) -> list[str]:
    participant = Participant.objects.get(study=ldn_study)
    return [
        participant.screening_number,
        participant.first_name,
        participant.last_name,
        participant.email,
        ldn_study.short_title,
    ]


@pytest.mark.parametrize("method", ["get", "post"])
def test_staff_of_another_study_get_none_of_its_staff_pages_or_exports(
    client, stranger, objects, ldn_study, method
):
    client.force_login(stranger)
    secrets = their_data(ldn_study)
    for route in walk():
        if not route.startswith("staff/"):
            continue
        for url in urls_for(route, objects):
            response = getattr(client, method)(url)
            body = without_random_tokens(response.content.decode())
            if "<slug:slug>" in route:  # a read-only page refuses a POST first (405)
                assert response.status_code in (404, 405 if method == "post" else 404), url
            else:  # their own dashboard, their own two-factor pages (a read-only page: 405)
                assert response.status_code in (200, 302, 405), url
            assert not [value for value in secrets if value in body], url


@pytest.mark.parametrize("method", ["get", "post"])
def test_staff_of_another_study_get_none_of_its_participant_or_study_admin_pages(
    client, stranger, objects, ldn_study, method
):
    client.force_login(stranger)
    secrets = their_data(ldn_study)
    participant = Participant.objects.get(study=ldn_study)
    failures = []
    routes = [
        route
        for route in walk()
        if route.startswith(
            ("admin/recruitment/participant/", "admin/recruitment/study/", "admin/r/")
        )
        and ("object_id" in route or "history/([^/]+)" in route)
    ]
    assert len(routes) == 33
    for route in routes:
        for url in urls_for(route, objects):
            # Followed: "<id>/" forwards to "<id>/change/", a missing object to the index.
            response = getattr(client, method)(url, follow=True)
            body = without_random_tokens(response.content.decode())
            refused = response.status_code in (403, 404, 405) or (
                response.status_code == 200
                and response.request["PATH_INFO"] == reverse("admin:index")
            )
            leaked = [value for value in secrets if value in body]
            if not refused or leaked:
                failures.append(f"{method.upper()} {url}: {response.status_code} {leaked}")
    assert failures == []
    assert Participant.objects.get(pk=participant.pk).status == participant.status


def test_staff_of_another_study_do_not_see_its_participants_in_the_queue(
    client, stranger, objects, ldn_study
):
    client.force_login(stranger)
    response = client.get(reverse("admin:recruitment_participant_changelist"))
    assert response.status_code == 200
    body = without_random_tokens(response.content.decode())
    assert not [value for value in their_data(ldn_study) if value in body]
