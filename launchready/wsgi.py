"""WSGI entry point (gunicorn launchready.wsgi)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "launchready.settings")
application = get_wsgi_application()


def _load_every_view() -> None:
    """Import every view module now, as the server starts, rather than on a worker's first request: a first
    visitor after a deploy or a worker restart would otherwise wait a second for the imports. Under
    gunicorn --preload the workers share what the master loaded."""
    from django.urls import get_resolver

    resolver = get_resolver()
    resolver.url_patterns  # noqa: B018 - the property imports the URL modules and, through them, the views
    resolver.reverse_dict  # noqa: B018 - builds the reverse lookup once, here


_load_every_view()
