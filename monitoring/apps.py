from django.apps import AppConfig


class MonitoringConfig(AppConfig):
    name = "monitoring"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # lazy import: the handlers need the app registry, which is ready only now (Django's place for it)
        from monitoring import signals  # noqa: F401  (keeps the clients' status rows in step)
