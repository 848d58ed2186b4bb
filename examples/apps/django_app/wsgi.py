"""WSGI entry point.

Run:  gunicorn --chdir examples/apps --bind 127.0.0.1:8000 django_app.wsgi:application
"""

from __future__ import annotations

import os

from django.core.wsgi import get_wsgi_application

import toolkit

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "django_app.settings")

application = toolkit.instrument(get_wsgi_application(), service="django-example")
