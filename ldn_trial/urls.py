from django.contrib import admin
from django.http import HttpResponseRedirect
from django.templatetags.static import static
from django.urls import include, path
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET

from accounts import views as otp_views
from recruitment.intake import views


@require_GET
@cache_control(max_age=86400, public=True)
def favicon(request):
    """The app's icon by its static URL (hashed in production), looked up per request."""
    return HttpResponseRedirect(static("favicon.svg"))


admin.site.site_header = "ldn-trial"
admin.site.site_title = "ldn-trial staff"
admin.site.index_title = "Recruitment"

urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
    # Browsers ask for /favicon.ico on pages that name no icon: the app's own, by its static URL.
    path("favicon.ico", favicon, name="favicon"),
    path("admin/", admin.site.urls),
    # Staff two-factor sign-in; before "staff/" (see accounts/security.py).
    path("staff/2fa/", include((otp_views.urlpatterns, otp_views.app_name))),
    path("staff/allocation/", include("recruitment.allocation.urls")),
    path("staff/", include("recruitment.reports.urls")),
    # Replies to our texts, posted by the text provider (STOP, START).
    path("texts/", include("recruitment.texts.urls")),
    # Language switch (POST, no JavaScript): django.views.i18n.set_language.
    path("i18n/", include("django.conf.urls.i18n")),
    # The trial center's own form: any study that may fit (the registry).
    path("center/", include("recruitment.center.urls")),
    path("", include("recruitment.intake.urls")),
]

# Pages in the site's style and the reader's language; the 500 and 503 never query the database.
handler400 = "recruitment.error_pages.bad_request"
handler403 = "recruitment.error_pages.permission_denied"
handler404 = "recruitment.error_pages.page_not_found"
handler500 = "recruitment.error_pages.server_error"
