"""Gunicorn entry point: ``gunicorn wsgi:app``."""

from paywall import create_app

app = create_app()
