"""The project's URLs. Tenant objects are addressed by UUID; the name of each UUID says its kind."""

from django.contrib import admin
from django.urls import include, path

from launchready import views

urlpatterns = [
    path("", views.home, name="home"),
    path("dashboard/", views.dashboard, name="dashboard"),
    path("clients/new/", views.client_new, name="client_new"),
    path("clients/<uuid:client_code>/", views.client_detail, name="client_detail"),
    path("clients/<uuid:client_code>/edit/", views.client_edit, name="client_edit"),
    path("clients/<uuid:client_code>/delete/", views.client_delete, name="client_delete"),
    path("clients/<uuid:client_code>/contacts/new/", views.contact_new, name="contact_new"),
    path("contacts/<uuid:contact_code>/delete/", views.contact_delete, name="contact_delete"),
    path("clients/<uuid:client_code>/domains/new/", views.domain_new, name="domain_new"),
    path("domains/<uuid:domain_code>/edit/", views.domain_edit, name="domain_edit"),
    path("domains/<uuid:domain_code>/delete/", views.domain_delete, name="domain_delete"),
    path("domains/<uuid:domain_code>/routes/new/", views.route_new, name="route_new"),
    path("routes/<uuid:route_code>/edit/", views.route_edit, name="route_edit"),
    path("routes/<uuid:route_code>/delete/", views.route_delete, name="route_delete"),
    path("clients/<uuid:client_code>/sprints/new/", views.sprint_new, name="sprint_new"),
    path("sprints/<uuid:sprint_code>/", views.sprint_detail, name="sprint_detail"),
    path("sprints/<uuid:sprint_code>/edit/", views.sprint_edit, name="sprint_edit"),
    path("healthz", views.healthz, name="healthz"),
    path("", include("accounts.urls")),
    path("", include("audits.urls")),
    path("", include("monitoring.urls")),
    path("", include("handover.urls")),
    path("", include("reports.urls")),
    path("accounts/", include("allauth.urls")),
    path("admin/", admin.site.urls),
]

handler429 = "accounts.ratelimits.handler429"  # allauth's 429s, with Retry-After
