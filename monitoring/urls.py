from django.urls import path

from monitoring import api, views

urlpatterns = [
    path("api/v1/deploys", api.deploys, name="api_deploys"),
    path("clients/<uuid:client_code>/deploy-tokens/", views.tokens, name="deploy_tokens"),
    path("deploy-tokens/<uuid:token_code>/revoke/", views.token_revoke, name="deploy_token_revoke"),
    path("monitoring/", views.overview, name="monitoring_overview"),
    path("clients/<uuid:client_code>/monitoring/", views.client_monitoring, name="client_monitoring"),
    path("monitors/<uuid:monitor_code>/pause/", views.monitor_pause, name="monitor_pause"),
    path("monitors/<uuid:monitor_code>/edit/", views.monitor_edit, name="monitor_edit"),
    path("clients/<uuid:client_code>/alert-channels/", views.channels, name="alert_channels"),
    path("workspace/alert-channels/", views.workspace_channels, name="workspace_alert_channels"),
    path("alert-channels/<uuid:channel_code>/test/", views.channel_test, name="alert_channel_test"),
    path("alert-channels/<uuid:channel_code>/toggle/", views.channel_toggle, name="alert_channel_toggle"),
]
