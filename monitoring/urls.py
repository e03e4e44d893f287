from django.urls import path

from monitoring import views

urlpatterns = [
    path("monitoring/", views.overview, name="monitoring_overview"),
    path("clients/<uuid:client_code>/monitoring/", views.client_monitoring, name="client_monitoring"),
    path("monitors/<uuid:monitor_code>/pause/", views.monitor_pause, name="monitor_pause"),
]
