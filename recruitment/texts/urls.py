from django.urls import path

from recruitment.texts import views

app_name = "texts"

urlpatterns = [
    path("inbound/", views.inbound, name="inbound"),
]
