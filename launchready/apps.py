from django.apps import AppConfig


class LaunchreadyConfig(AppConfig):
    name = "launchready"
    verbose_name = "Launch Ready"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # lazy import: the handlers need the app registry, which is ready only now (Django's place for it)
        from launchready import signals  # noqa: F401  (a client's status row goes with it)
