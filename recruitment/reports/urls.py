from django.urls import path

from recruitment.amendments import views as amendment_views
from recruitment.calls import views as calls_views
from recruitment.center import views as center_views
from recruitment.invitations import views as invitation_views
from recruitment.reports import downloads
from recruitment.reports import views as staff_views
from recruitment.visits import views as visits_views

app_name = "staff"

urlpatterns = [
    path("", staff_views.dashboard, name="dashboard"),
    path("calls/", calls_views.calls, name="calls"),
    path("start/", calls_views.start, name="start"),
    path("registry/", center_views.registry_queue, name="registry"),
    path("visits/", visits_views.visits, name="visits"),
    path(
        "studies/<slug:slug>/screening-log.csv",
        downloads.screening_log_csv,
        name="screening_log",
    ),
    path(
        "studies/<slug:slug>/identification-list.csv",
        downloads.identification_list_csv,
        name="identification_list",
    ),
    path("studies/<slug:slug>/fhir-bundle.json", downloads.fhir_bundle, name="fhir_bundle"),
    path(
        "registry/<slug:slug>/matches/",
        invitation_views.registry_matches,
        name="registry_matches",
    ),
    path(
        "registry/<slug:slug>/matches/<int:number>/invite/",
        invitation_views.registry_match_invite,
        name="registry_match_invite",
    ),
    path("studies/<slug:slug>/amendments/", amendment_views.amendments, name="amendments"),
    path(
        "studies/<slug:slug>/amendments/<int:pk>/",
        amendment_views.amendment,
        name="amendment",
    ),
    path(
        "studies/<slug:slug>/amendments/<int:pk>/what-if.csv",
        amendment_views.whatif_csv,
        name="amendment_whatif",
    ),
]
