from django.urls import path

from recruitment.allocation import views

app_name = "allocation"

urlpatterns = [
    path("<slug:slug>/", views.allocation_list, name="list"),
    path("<slug:slug>/unblindings/", views.unblindings, name="unblindings"),
    path("<slug:slug>/participants/<int:pk>/stratum/", views.stratum, name="stratum"),
    path("<slug:slug>/participants/<int:pk>/unblind/", views.unblind, name="unblind"),
]
