from django.urls import path

from accounts import views

urlpatterns = [
    path("workspace/new/", views.workspace_new, name="workspace_new"),
    path("workspace/switch/", views.workspace_switch, name="workspace_switch"),
    path("workspace/settings/", views.workspace_settings, name="workspace_settings"),
    path("workspace/activity/", views.activity_log, name="activity_log"),
    path("workspace/invite/", views.colleague_invite, name="colleague_invite"),
    path("workspace/members/<uuid:membership_code>/remove/", views.member_remove, name="member_remove"),
    path(
        "workspace/invitations/<uuid:invitation_code>/withdraw/", views.invitation_withdraw, name="invitation_withdraw"
    ),
    path("clients/<uuid:client_code>/invite-founder/", views.founder_invite, name="founder_invite"),
    path("invitations/<str:token>/", views.invitation_accept_view, name="invitation_accept"),
]
