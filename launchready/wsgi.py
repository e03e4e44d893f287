"""WSGI entry point (gunicorn launchready.wsgi)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "launchready.settings")
application = get_wsgi_application()
