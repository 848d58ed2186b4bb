"""ASGI entry point.

Run:  uvicorn django_app.asgi:application --app-dir examples/apps --port 8000
"""

from __future__ import annotations

import os

from django.core.asgi import get_asgi_application

import toolkit

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "django_app.settings")

application = toolkit.instrument(get_asgi_application(), service="django-example")
