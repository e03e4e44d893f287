from django.apps import AppConfig


class LaunchreadyConfig(AppConfig):
    name = "launchready"
    verbose_name = "Launch Ready"
    default_auto_field = "django.db.models.BigAutoField"
