"""Settings of the example Django project (nothing toolkit-specific is needed here)."""

from __future__ import annotations

SECRET_KEY = "example-only-not-secret"
DEBUG = False
ALLOWED_HOSTS = ["*"]
ROOT_URLCONF = "django_app.urls"
INSTALLED_APPS: list[str] = []
MIDDLEWARE: list[str] = []
# toolkit.instrument() configures logging (JSON lines); keep Django from installing its own.
LOGGING_CONFIG = None
