from django.urls import path

from audits import views

urlpatterns = [
    path("clients/<uuid:client_code>/audits/start/", views.audit_start, name="audit_start"),
    path("clients/<uuid:client_code>/audits/progress/", views.audit_progress, name="audit_progress"),
    path("clients/<uuid:client_code>/risks/", views.client_risks, name="client_risks"),
    path("clients/<uuid:client_code>/risks.json", views.client_risks_json, name="client_risks_json"),
    path("clients/<uuid:client_code>/assistant/", views.assistant_probe, name="assistant_probe"),
    path("clients/<uuid:client_code>/assistant/delete/", views.assistant_probe_delete, name="assistant_probe_delete"),
    path("clients/<uuid:client_code>/repository/", views.repo_scans, name="repo_scans"),
    path("clients/<uuid:client_code>/repository/scans/", views.repo_scans_status, name="repo_scans_status"),
    path("clients/<uuid:client_code>/repository/keys/rotated/", views.key_rotated, name="key_rotated"),
    path("clients/<uuid:client_code>/repository/keys/withdraw/", views.key_rotation_undone, name="key_rotation_undone"),
    path("clients/<uuid:client_code>/email/send-test/", views.send_test, name="send_test"),
    path("clients/<uuid:client_code>/email/send-test/status/", views.send_test_status, name="send_test_status"),
    path("clients/<uuid:client_code>/email/senders/", views.dmarc_senders, name="dmarc_senders"),
    path("audit-runs/<uuid:run_code>/", views.audit_run_detail, name="audit_run_detail"),
]
