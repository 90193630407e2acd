"""The WSGI entry point: `flask --app app run` or `gunicorn app:app`."""
from resident_app import create_app

app = create_app()
