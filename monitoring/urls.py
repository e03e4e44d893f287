from django.urls import path

from monitoring import api, heartbeat_views, journey_views, ping_endpoint, views
from monitoring.models import Heartbeat

urlpatterns = [
    path("api/v1/deploys", api.deploys, name="api_deploys"),
    path("api/v1/deploys/<str:deploy_code>", api.deploy_detail, name="api_deploy_detail"),
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
    path("clients/<uuid:client_code>/heartbeats/new/", heartbeat_views.heartbeat_add, name="heartbeat_add"),
    path("heartbeats/<uuid:heartbeat_code>/edit/", heartbeat_views.heartbeat_edit, name="heartbeat_edit"),
    path("heartbeats/<uuid:heartbeat_code>/pause/", heartbeat_views.heartbeat_pause, name="heartbeat_pause"),
    path("heartbeats/<uuid:heartbeat_code>/new-url/", heartbeat_views.heartbeat_new_url, name="heartbeat_new_url"),
    path("heartbeats/<uuid:heartbeat_code>/delete/", heartbeat_views.heartbeat_delete, name="heartbeat_delete"),
    # The public ping URLs a client's jobs call (monitoring/ping_endpoint.py).
    path("ping/<str:token>", ping_endpoint.ping, name="heartbeat_ping"),
    path("ping/<str:token>/start", ping_endpoint.ping, {"kind": Heartbeat.Ping.START}, name="heartbeat_ping_start"),
    path("ping/<str:token>/fail", ping_endpoint.ping, {"kind": Heartbeat.Ping.FAIL}, name="heartbeat_ping_fail"),
    path("clients/<uuid:client_code>/journeys/", journey_views.journeys, name="journeys"),
    path("clients/<uuid:client_code>/journeys/new/", journey_views.journey_new, name="journey_new"),
    path("journeys/<uuid:journey_code>/", journey_views.journey_detail, name="journey_detail"),
    path("journeys/<uuid:journey_code>/delete/", journey_views.journey_delete, name="journey_delete"),
    path("journeys/<uuid:journey_code>/steps/new/", journey_views.journey_step_new, name="journey_step_new"),
    path("journeys/<uuid:journey_code>/secrets/", journey_views.journey_secret, name="journey_secret"),
    path("journeys/<uuid:journey_code>/run/", journey_views.journey_run, name="journey_run"),
    path("journey-steps/<uuid:step_code>/", journey_views.journey_step, name="journey_step"),
    path("journey-steps/<uuid:step_code>/delete/", journey_views.journey_step_delete, name="journey_step_delete"),
    path("journey-runs/<uuid:journey_run_code>/", journey_views.journey_run_detail, name="journey_run_detail"),
]
