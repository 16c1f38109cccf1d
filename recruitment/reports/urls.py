from django.urls import path

from recruitment.calls import views as calls_views
from recruitment.reports import downloads
from recruitment.reports import views as staff_views
from recruitment.visits import views as visits_views

app_name = "staff"

urlpatterns = [
    path("", staff_views.dashboard, name="dashboard"),
    path("calls/", calls_views.calls, name="calls"),
    path("start/", calls_views.start, name="start"),
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
]
