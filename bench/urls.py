"""The app's URLs plus the yardsticks and the form-post floor (bench settings only, never in
production)."""

from django.urls import include, path

from bench import views

urlpatterns = [
    path("bench/yardstick/", views.yardstick),
    path("bench/insert/", views.insert),
    path("bench/<slug:slug>/form-post-floor/", views.form_post_floor),
    path("", include("ldn_trial.urls")),
]
