"""The framework's ceiling for the speed benchmark: a bare Flask "hello", served by the same
gunicorn with the same settings as the site (`gunicorn --config gunicorn.conf.py bench.hello:app`)."""
from flask import Flask

app = Flask(__name__)


@app.get("/")
def hello() -> str:
    return "Hello"
