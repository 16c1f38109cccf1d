"""The app's URLs plus the two yardsticks (bench settings only, never in production)."""

from django.urls import include, path

from bench import views

urlpatterns = [
    path("bench/yardstick/", views.yardstick),
    path("bench/insert/", views.insert),
    path("", include("ldn_trial.urls")),
]
