"""URLs of the weekly status report."""

from django.urls import path

from reports import views

urlpatterns = [
    path("clients/<uuid:client_code>/reports/", views.report_history, name="report_history"),
    path("clients/<uuid:client_code>/reports/preview/", views.report_preview, name="report_preview"),
    path("clients/<uuid:client_code>/reports/preview/email/", views.report_preview_email, name="report_preview_email"),
    path("reports/<uuid:report_code>/", views.report_detail, name="report_detail"),
    path("reports/<uuid:report_code>/email/", views.report_email, name="report_email"),
    path("reports/", views.report_digest, name="report_digest"),
    path("reports/opt-out/<str:token>/", views.report_opt_out, name="report_opt_out"),
    path("reports/digest/opt-out/<str:token>/", views.report_digest_opt_out, name="report_digest_opt_out"),
]
