from django.contrib import admin
from django.urls import include, path

from recruitment import views

admin.site.site_header = "ldn-trial"
admin.site.site_title = "ldn-trial staff"
admin.site.index_title = "Recruitment"

urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("staff/", include("recruitment.staff_urls")),
    path("", include("recruitment.urls")),
]
