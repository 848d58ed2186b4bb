"""A minimal Django project, instrumented with one line in wsgi.py and in asgi.py."""
