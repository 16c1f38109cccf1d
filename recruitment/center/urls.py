from django.urls import path

from recruitment.center import views

app_name = "center"

urlpatterns = [
    path("interest/", views.center_interest, name="interest"),
    path("interest/thanks/", views.center_thanks, name="thanks"),
]
