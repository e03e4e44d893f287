"""The URLs of the pages that compose the apps. Tenant objects are addressed by UUID."""

from django.urls import path

from web import api, onboarding_views, views

urlpatterns = [
    path("", views.home, name="home"),
    path("dashboard/", views.dashboard, name="dashboard"),
    path("dashboard/import/", onboarding_views.onboarding_import, name="onboarding_import"),
    path("dashboard/import/apply/", onboarding_views.onboarding_apply_csv, name="onboarding_apply"),
    path("dashboard/import/template.csv", onboarding_views.onboarding_template_csv, name="onboarding_template"),
    path("dashboard/export.csv", onboarding_views.onboarding_export_csv, name="onboarding_export"),
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
    path("audit-runs/<uuid:run_code>/approve-baseline/", views.approve_baseline, name="approve_baseline"),
    # The client's CI: a repository to scan, with the client's deploy token (web/api.py).
    path("api/v1/scans", api.scans, name="api_scans"),
    path("api/v1/scans/<uuid:scan_code>", api.scan_detail, name="api_scan"),
]
