from django.urls import path

from recruitment import views, withdraw_views

app_name = "recruitment"

urlpatterns = [
    path("", views.home, name="home"),
    path("studies/<slug:slug>/", views.study_detail, name="study"),
    path("studies/<slug:slug>/interest/", views.interest, name="interest"),
    path("studies/<slug:slug>/interest/thanks/", views.thanks, name="thanks"),
    path("withdraw/<str:token>/", withdraw_views.withdraw, name="withdraw"),
]
