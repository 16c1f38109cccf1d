from django.urls import path

from recruitment.intake import draft_views, registry_views, views, withdraw_views

app_name = "recruitment"

urlpatterns = [
    path("", views.home, name="home"),
    path("studies/<slug:slug>/", views.study_detail, name="study"),
    path("studies/<slug:slug>/interest/", views.interest, name="interest"),
    path("studies/<slug:slug>/interest/thanks/", views.thanks, name="thanks"),
    path("studies/<slug:slug>/interest/save/", draft_views.draft_save, name="draft_save"),
    path("studies/<slug:slug>/interest/saved/", draft_views.draft_saved, name="draft_saved"),
    path(
        "studies/<slug:slug>/interest/resume/<str:token>/",
        draft_views.draft_resume,
        name="draft_resume",
    ),
    path("withdraw/<str:token>/", withdraw_views.withdraw, name="withdraw"),
    path("registry/leave/<str:token>/", registry_views.registry_leave, name="registry_leave"),
]
