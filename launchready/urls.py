"""The project's URLs. Tenant objects are addressed by UUID; the name of each UUID says its kind."""

from django.contrib import admin
from django.urls import include, path

from launchready import views

urlpatterns = [
    path("", include("web.urls")),
    path("healthz", views.healthz, name="healthz"),
    path("", include("accounts.urls")),
    path("", include("audits.urls")),
    path("", include("monitoring.urls")),
    path("", include("handover.urls")),
    path("", include("reports.urls")),
    path("accounts/", include("allauth.urls")),
    path("admin/", admin.site.urls),
    # Last: every other path under /api/ answers the API's JSON 404, not the site's HTML page.
    path("", include("web.api_urls")),
]

handler429 = "accounts.ratelimits.handler429"  # allauth's 429s, with Retry-After
