"""Gunicorn settings for `make serve` (gunicorn reads ./gunicorn.conf.py by itself).

Workers, address and logging come from the environment. Before any worker starts, the master runs
the app's production checks once (one line per problem, then it stops) and, on a staging or demo
server with ALLOW_PAYMENT_SANDBOX=1, starts the Stripe sandbox as its own process so that every
worker talks to the same one.
"""
import multiprocessing
import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.request

bind = f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '5000')}"
workers = int(os.environ.get("WEB_CONCURRENCY") or 2 * multiprocessing.cpu_count() + 1)
# Threads per worker: a checkout waits on Stripe's API for a few hundred milliseconds, and a
# thread waiting on the network should not hold a whole process.
threads = int(os.environ.get("GUNICORN_THREADS") or 4)
timeout = 30
# gunicorn's control socket lives at one path per user: two sites (or test runs) on one machine
# would fight over it, and nothing here uses gunicornc.
control_socket_disable = True
accesslog = "-"
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(M)sms'
# Everything to stdout, one line per record, for journald or a container's log collector.
logconfig_dict = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s [%(process)d] %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"stdout": {"class": "logging.StreamHandler", "stream": "ext://sys.stdout",
                            "formatter": "plain"}},
    "root": {"level": "INFO", "handlers": ["stdout"]},
    "loggers": {
        "gunicorn.error": {"level": "INFO", "handlers": ["stdout"], "propagate": False},
        "gunicorn.access": {"level": "INFO", "handlers": ["stdout"], "propagate": False},
        "alembic": {"level": "WARNING"},  # Flask-Migrate's set-up chatter in every worker
        "stripe": {"level": "WARNING"},   # two lines per API call otherwise
    },
}

_sandbox = None


def on_starting(server):
    """Start the shared sandbox if this is a sandbox server, then refuse unsafe settings."""
    _start_sandbox(server)
    # Imported only now: the workers inherit this module, and its settings must include the
    # sandbox's address and key set just above.
    from resident_app.config import Config, apply_environment, check_settings

    config = {name: getattr(Config, name) for name in dir(Config) if name.isupper()}
    apply_environment(config)
    problems = check_settings(config, workers=server.cfg.workers, serving=True)
    if problems:
        _stop_sandbox()
        raise RuntimeError("\n".join(problems))  # gunicorn prints "Error: ..." and exits 1


def on_exit(server):
    _stop_sandbox()


def _start_sandbox(server):
    env = os.environ
    if env.get("STRIPE_SECRET_KEY") or env.get("ALLOW_PAYMENT_SANDBOX", "").strip() != "1" \
            or env.get("STRIPE_SANDBOX_URL"):
        return
    global _sandbox
    port = int(env.get("STRIPE_SANDBOX_PORT") or 0) or _free_port()
    api_key = env.get("STRIPE_SANDBOX_API_KEY") or "sk_test_sandbox_" + secrets.token_hex(16)
    webhook_secret = env.get("STRIPE_WEBHOOK_SECRET") or "whsec_sandbox_" + secrets.token_hex(16)
    app_port = server.cfg.bind[0].rsplit(":", 1)[-1]  # the address gunicorn really listens on
    webhook_url = env.get("STRIPE_SANDBOX_WEBHOOK_URL") or f"http://127.0.0.1:{app_port}/webhooks/stripe"
    command = [sys.executable, "-m", "resident_app.payments.sandbox", "--port", str(port),
               "--webhook-url", webhook_url]
    if env.get("STRIPE_SANDBOX_PUBLIC_URL"):
        command += ["--public-base-url", env["STRIPE_SANDBOX_PUBLIC_URL"]]
    child_env = dict(env, STRIPE_SANDBOX_API_KEY=api_key, STRIPE_WEBHOOK_SECRET=webhook_secret)
    _sandbox = subprocess.Popen(command, env=child_env)
    url = f"http://127.0.0.1:{port}"
    _wait_for_sandbox(url, api_key)
    os.environ.update(STRIPE_SANDBOX_URL=url, STRIPE_SANDBOX_API_KEY=api_key, STRIPE_WEBHOOK_SECRET=webhook_secret)
    server.log.warning("ALLOW_PAYMENT_SANDBOX=1: test payments only, through the Stripe sandbox at %s", url)


def _wait_for_sandbox(url, api_key):
    """Until the sandbox answers our key (another program on the port would not)."""
    request = urllib.request.Request(f"{url}/v1/checkout/sessions?limit=1",
                                     headers={"Authorization": f"Bearer {api_key}"})
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if _sandbox.poll() is not None:
            break
        try:
            with opener.open(request, timeout=1) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.1)
    _stop_sandbox()
    raise RuntimeError(f"The Stripe sandbox did not start at {url}: is STRIPE_SANDBOX_PORT in use?")


def _stop_sandbox():
    global _sandbox
    if _sandbox is not None and _sandbox.poll() is None:
        _sandbox.terminate()
        try:
            _sandbox.wait(5)
        except subprocess.TimeoutExpired:
            _sandbox.kill()
    _sandbox = None


def _free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
