from django.urls import path

from handover import views

urlpatterns = [
    path("sprints/<uuid:sprint_code>/checklist/", views.checklist_tick_view, name="checklist_tick"),
    path("clients/<uuid:client_code>/handover/", views.client_pack, name="client_pack"),
    path("clients/<uuid:client_code>/handover/publish/", views.pack_publish_view, name="pack_publish"),
    path("clients/<uuid:client_code>/access/", views.access_inventory, name="access_inventory"),
    path("handover/<uuid:pack_code>/", views.pack_version, name="pack_version"),
    path("handover/<uuid:pack_code>/pdf/", views.pack_version_pdf, name="pack_version_pdf"),
    path("handover/<uuid:pack_code>/markdown/", views.pack_version_markdown, name="pack_version_markdown"),
]
