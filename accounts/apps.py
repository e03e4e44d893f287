from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # lazy import: the handlers need the app registry, which is ready only now (Django's place for it)
        from accounts import signals  # noqa: F401  (connects the activity log to allauth's signals)
