from django.apps import AppConfig


class HandoverConfig(AppConfig):
    name = "handover"
    default_auto_field = "django.db.models.BigAutoField"
