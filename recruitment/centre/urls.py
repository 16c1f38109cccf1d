from django.urls import path

from recruitment.centre import views

app_name = "centre"

urlpatterns = [
    path("interest/", views.centre_interest, name="interest"),
    path("interest/thanks/", views.centre_thanks, name="thanks"),
]
