from django.urls import path

from monitoring import views

urlpatterns = [
    path("monitoring/", views.overview, name="monitoring_overview"),
    path("clients/<uuid:client_code>/monitoring/", views.client_monitoring, name="client_monitoring"),
    path("monitors/<uuid:monitor_code>/pause/", views.monitor_pause, name="monitor_pause"),
    path("clients/<uuid:client_code>/alert-channels/", views.channels, name="alert_channels"),
    path("alert-channels/<uuid:channel_code>/test/", views.channel_test, name="alert_channel_test"),
    path("alert-channels/<uuid:channel_code>/toggle/", views.channel_toggle, name="alert_channel_toggle"),
]
