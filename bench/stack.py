"""Real processes for the fault tests and the festival load test.

A PostgreSQL database of their own (named after DATABASE_URL's, plus a suffix), Redis for the rate
limits under a key prefix of their own, the Stripe sandbox as its own process delivering signed
webhooks, and gunicorn workers started with `gunicorn.conf.py` in production mode
(APP_ENV=production, TRUSTED_PROXY_COUNT=1, ALLOW_PAYMENT_SANDBOX=1), as `make serve` runs them.
Optionally the app reaches PostgreSQL through a TCP relay that a test can cut, which is what the
app sees when the database stops (the machine's PostgreSQL itself is shared, so it is never stopped).
"""
from __future__ import annotations

import json
import os
import re
import secrets
import selectors
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/1"


def free_port() -> int:
    """A port nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until(predicate: Callable[[], Any], timeout: float, what: str, interval: float = 0.1) -> Any:
    """Poll until predicate() is truthy; its value, or AssertionError naming `what`."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(interval)


def postgres_base_url() -> str | None:
    """The PostgreSQL URL the suite runs on (DATABASE_URL), or None on the SQLite pass."""
    url = os.environ.get("DATABASE_URL", "")
    return url if url.startswith("postgresql") else None


def redis_url() -> str:
    return os.environ.get("TEST_REDIS_URL", DEFAULT_REDIS_URL)


def redis_answers(url: str) -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=1).ping())
    except redis.RedisError:
        return False


def create_database(base_url: str, suffix: str) -> str:
    """A fresh, empty database `<base name>_<suffix>` beside base_url's; its URL. A SQLite base
    names a file: the new one sits beside it."""
    import psycopg

    url = make_url(base_url)
    if url.drivername.startswith("sqlite"):
        path = Path(url.database or "bench.sqlite3")
        target = path.with_name(f"{path.stem}_{suffix}{path.suffix}")
        _remove_sqlite(target)
        return f"sqlite:///{target}"
    name = f"{url.database}_{suffix}"
    admin = url.set(drivername="postgresql", database="postgres").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{name}"')
    return url.set(database=name).render_as_string(hide_password=False)


def _remove_sqlite(path: Path) -> None:
    for leftover in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        leftover.unlink(missing_ok=True)


def drop_database(database_url: str) -> None:
    import psycopg

    url = make_url(database_url)
    if url.drivername.startswith("sqlite"):
        _remove_sqlite(Path(url.database))
        return
    admin = url.set(drivername="postgresql", database="postgres").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{url.database}" WITH (FORCE)')


def clear_redis_prefix(url: str, prefix: str) -> None:
    """Remove this run's keys (never anything else in that Redis database)."""
    import redis

    client = redis.Redis.from_url(url)
    for pattern in (f"*{prefix}*",):
        keys = list(client.scan_iter(match=pattern, count=1000))
        if keys:
            client.delete(*keys)


class TcpRelay:
    """127.0.0.1:<port> relayed to a target; cut() closes every connection and refuses new ones,
    as a stopped database server does; resume() accepts again."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.port = free_port()
        self._lock = threading.Lock()
        self._pairs: list[tuple[socket.socket, socket.socket]] = []
        self._listener: socket.socket | None = None
        self._running = True
        self.resume()

    def resume(self) -> None:
        with self._lock:
            if self._listener is not None:
                return
            listener = socket.socket()
            listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            listener.bind(("127.0.0.1", self.port))
            listener.listen(64)
            self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def cut(self) -> None:
        with self._lock:
            listener, self._listener = self._listener, None
            pairs, self._pairs = self._pairs, []
        if listener is not None:
            listener.close()
        for a, b in pairs:
            for sock in (a, b):
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                sock.close()

    def close(self) -> None:
        self._running = False
        self.cut()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            with self._lock:
                if self._listener is not listener:
                    client.close()
                    upstream.close()
                    return
                self._pairs.append((client, upstream))
            threading.Thread(target=self._pump, args=(client, upstream), daemon=True).start()

    @staticmethod
    def _pump(a: socket.socket, b: socket.socket) -> None:
        selector = selectors.DefaultSelector()
        try:
            selector.register(a, selectors.EVENT_READ, b)
            selector.register(b, selectors.EVENT_READ, a)
            while True:
                for key, _ in selector.select(timeout=1):
                    data = key.fileobj.recv(65536)  # type: ignore[union-attr]
                    if not data:
                        return
                    key.data.sendall(data)
        except (OSError, ValueError):
            return
        finally:
            selector.close()
            for sock in (a, b):
                try:
                    sock.close()
                except OSError:
                    pass


@dataclass
class Stack:
    """A running production-mode site: gunicorn workers, the sandbox process, their settings."""

    database_url: str
    app_url: str
    sandbox_url: str
    api_key: str
    webhook_secret: str
    env: dict[str, str]
    log_dir: Path
    gunicorn: subprocess.Popen | None = None
    sandbox: subprocess.Popen | None = None
    relay: TcpRelay | None = None
    processes: list[subprocess.Popen] = field(default_factory=list)
    # The demo accounts' passwords, as `flask seed --demo` printed them once (they are random).
    demo_passwords: dict[str, str] = field(default_factory=dict)

    def flask(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        """Run a `flask` command against this site's settings and database."""
        result = subprocess.run([str(BIN / "flask"), *args], cwd=ROOT, env=self.env, capture_output=True,
                                text=True, timeout=300)
        if check and result.returncode != 0:
            raise AssertionError(f"flask {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
        return result

    def sandbox_call(self, path: str, data: dict[str, Any] | None = None) -> Any:
        """A /_sandbox/* helper (GET, or POST with form data); the JSON it answers."""
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        request = urllib.request.Request(f"{self.sandbox_url}{path}", data=body,
                                         method="POST" if body is not None else "GET")
        with _opener.open(request, timeout=10) as response:
            raw = response.read()
        return json.loads(raw) if raw else None

    def pool(self) -> dict[str, int]:
        """The public pool figures (/api/v1/pool)."""
        with _opener.open(f"{self.app_url}/api/v1/pool", timeout=30) as response:
            return json.loads(response.read())

    def addon_id(self, slug: str) -> int:
        engine = sqlalchemy.create_engine(self.database_url, poolclass=sqlalchemy.pool.NullPool)
        try:
            with engine.connect() as connection:
                return int(connection.execute(sqlalchemy.text("SELECT id FROM addons WHERE slug = :slug"),
                                              {"slug": slug}).scalar_one())
        finally:
            engine.dispose()

    def set_webhook_drop(self, percent: int) -> None:
        self.sandbox_call("/_sandbox/settings", {"drop_webhooks_percent": str(percent)})

    def worker_pids(self) -> list[int]:
        """gunicorn's live worker processes."""
        assert self.gunicorn is not None
        return child_pids(self.gunicorn.pid)

    def cpu_seconds(self) -> dict[str, float]:
        """CPU time used so far by gunicorn (master, workers, reaped workers) and by the sandbox."""
        assert self.gunicorn is not None and self.sandbox is not None
        app = _cpu(self.gunicorn.pid, children=True) + sum(_cpu(pid) for pid in self.worker_pids())
        return {"app": round(app, 2), "sandbox": round(_cpu(self.sandbox.pid), 2)}

    def worker_serving_sandbox(self) -> int | None:
        """A gunicorn worker that holds an open connection from the sandbox right now (a webhook
        delivery in flight), or None."""
        assert self.sandbox is not None
        app_port = int(self.app_url.rsplit(":", 1)[1])
        table = _tcp_connections()
        sandbox_sockets = _socket_inodes(self.sandbox.pid)
        sandbox_ports = {local for local, remote, inode in table if inode in sandbox_sockets and remote == app_port}
        accepted = {inode for local, remote, inode in table if local == app_port and remote in sandbox_ports}
        for pid in self.worker_pids():
            if _socket_inodes(pid) & accepted:
                return pid
        return None

    def stop(self) -> None:
        for process in (self.gunicorn, self.sandbox):
            if process is not None and process.poll() is None:
                process.send_signal(signal.SIGINT)  # gunicorn: quick shutdown
        for process in (self.gunicorn, self.sandbox):
            if process is not None:
                try:
                    process.wait(20)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait(5)
        if self.relay is not None:
            self.relay.close()
        clear_redis_prefix(self.env["RATELIMIT_STORAGE_URI"], self.env["RATELIMIT_KEY_PREFIX"])

    def __enter__(self) -> Stack:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


_opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def http_status(url: str) -> int | None:
    try:
        with _opener.open(url, timeout=2) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code
    except OSError:
        return None


def _cpu(pid: int, children: bool = False) -> float:
    """utime + stime of a process (and of its reaped children), in seconds."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    ticks = int(fields[11]) + int(fields[12]) + (int(fields[13]) + int(fields[14]) if children else 0)
    return ticks / os.sysconf("SC_CLK_TCK")


def _socket_inodes(pid: int) -> set[int]:
    inodes = set()
    try:
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            try:
                target = os.readlink(fd)
            except OSError:
                continue
            if target.startswith("socket:["):
                inodes.add(int(target[8:-1]))
    except OSError:
        pass
    return inodes


def _tcp_connections() -> list[tuple[int, int, int]]:
    """Established TCP connections on this machine: (local port, remote port, socket inode)."""
    rows = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if fields[3] != "01":  # ESTABLISHED
                continue
            rows.append((int(fields[1].rsplit(":", 1)[1], 16), int(fields[2].rsplit(":", 1)[1], 16), int(fields[9])))
    return rows


def child_pids(parent: int) -> list[int]:
    """Processes whose parent is `parent` (Linux /proc)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # pid (comm) state ppid ...: comm may hold spaces, so split after the last ')'.
        if int(stat.rsplit(")", 1)[1].split()[1]) == parent:
            pids.append(int(entry.name))
    return sorted(pids)


def start_stack(base_database_url: str, name: str, *, workers: int = 4, threads: int | None = None,
                relay_database: bool = False, sandbox_args: tuple[str, ...] = (), demo: bool = True,
                log_dir: Path | None = None, prepare: Callable[[str], None] | None = None) -> Stack:
    """Create the database `<base>_<name>` (PostgreSQL, or a SQLite file beside the base's),
    migrate and seed it, start the sandbox and gunicorn (`threads` per worker: 1 = sync workers;
    default gunicorn.conf.py's). `prepare(database_url)` runs on the new database before that."""
    database_url = create_database(base_database_url, name)
    if prepare is not None:
        prepare(database_url)
    relay = None
    app_database_url = database_url
    if relay_database and not database_url.startswith("sqlite"):
        url = make_url(database_url)
        relay = TcpRelay(url.host or "127.0.0.1", url.port or 5432)
        app_database_url = url.set(host="127.0.0.1", port=relay.port).render_as_string(hide_password=False)
    app_port, sandbox_port = free_port(), free_port()
    app_url, sandbox_url = f"http://127.0.0.1:{app_port}", f"http://127.0.0.1:{sandbox_port}"
    api_key = "sk_test_sandbox_" + secrets.token_hex(16)
    webhook_secret = "whsec_sandbox_" + secrets.token_hex(16)
    log_dir = log_dir or Path(os.environ.get("TMPDIR", "/tmp")) / f"resident-stack-{name}-{os.getpid()}"
    log_dir.mkdir(parents=True, exist_ok=True)
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("STRIPE_", "RATELIMIT_", "FLASK_RUN"))},
        "APP_ENV": "production",
        "FLASK_APP": "app.py",
        "SECRET_KEY": secrets.token_urlsafe(48),
        "DATABASE_URL": app_database_url,
        "PUBLIC_BASE_URL": app_url,
        "TRUSTED_PROXY_COUNT": "1",
        "ALLOW_PAYMENT_SANDBOX": "1",
        "STRIPE_SANDBOX_URL": sandbox_url,
        "STRIPE_SANDBOX_API_KEY": api_key,
        "STRIPE_WEBHOOK_SECRET": webhook_secret,
        "RATELIMIT_STORAGE_URI": redis_url(),
        "RATELIMIT_KEY_PREFIX": f"stack-{name}-{secrets.token_hex(4)}",
        "WEB_CONCURRENCY": str(workers),
        "UPLOAD_DIR": str(log_dir / "uploads"),
        "PYTHONUNBUFFERED": "1",
        **({"GUNICORN_THREADS": str(threads)} if threads else {}),
    }
    stack = Stack(database_url=database_url, app_url=app_url, sandbox_url=sandbox_url, api_key=api_key,
                  webhook_secret=webhook_secret, env=env, log_dir=log_dir, relay=relay)
    try:
        stack.flask("db", "upgrade")
        # --new-demo-passwords: a database made earlier (prepare) may hold the demo accounts already.
        seeded = stack.flask("seed", *(["--demo", "--new-demo-passwords"] if demo else []))
        stack.demo_passwords = dict(re.findall(r"demo account (\S+) password: (\S+)", seeded.stdout))
        stack.sandbox = subprocess.Popen(
            [sys.executable, "-m", "resident_app.payments.sandbox", "--port", str(sandbox_port),
             "--webhook-url", f"{app_url}/webhooks/stripe", "--debug-endpoints",
             "--webhook-retry-base", "0.25", "--webhook-retry-cap", "2", "--webhook-max-attempts", "12",
             *sandbox_args],
            cwd=ROOT, env=env, stdout=open(log_dir / "sandbox.log", "w"), stderr=subprocess.STDOUT)
        stack.gunicorn = subprocess.Popen(
            [str(BIN / "gunicorn"), "--config", "gunicorn.conf.py", "--bind", f"127.0.0.1:{app_port}",
             "--workers", str(workers), "app:app"],
            cwd=ROOT, env=env, stdout=open(log_dir / "gunicorn.log", "w"), stderr=subprocess.STDOUT)
        wait_until(lambda: http_status(f"{sandbox_url}/_sandbox/health") == 200, 20, "the sandbox")
        wait_until(lambda: stack.gunicorn.poll() is not None or http_status(f"{app_url}/healthz") == 200,
                   60, "gunicorn's /healthz")
        if stack.gunicorn.poll() is not None:
            raise AssertionError("gunicorn exited:\n" + (log_dir / "gunicorn.log").read_text()[-3000:])
        wait_until(lambda: len(stack.worker_pids()) >= workers, 30, f"{workers} gunicorn workers")
    except BaseException:
        stack.stop()
        raise
    return stack

