from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "web"
    verbose_name = "Launch Ready pages"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # lazy import: the handlers need the app registry, which is ready only now (Django's place for it)
        from web import journey_risk  # noqa: F401  (a journey's latest run joins the client's risk list)
