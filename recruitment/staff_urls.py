from django.urls import path

from recruitment import export_views, staff_views

app_name = "staff"

urlpatterns = [
    path("", staff_views.dashboard, name="dashboard"),
    path(
        "studies/<slug:slug>/screening-log.csv",
        export_views.screening_log_csv,
        name="screening_log",
    ),
    path(
        "studies/<slug:slug>/identification-list.csv",
        export_views.identification_list_csv,
        name="identification_list",
    ),
    path("studies/<slug:slug>/fhir-bundle.json", export_views.fhir_bundle, name="fhir_bundle"),
]
