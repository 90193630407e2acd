"""A small HTTP load generator, in the spirit of `wrk -t2 -c32` (wrk is not installed here).

`hammer(url, seconds=10, connections=32, processes=2)` keeps `connections` requests in flight from
`processes` processes (threads inside each, so the client is not held to one core by the GIL),
each connection sending the same prepared request again and again over raw sockets, as wrk does.
It keeps a connection alive when the server allows it; gunicorn's sync workers close it after
every response (they do not keep connections alive), so each request then pays for its own
connect, exactly as it does under wrk against the same server. The client's own CPU time is
reported with the figures: on a 2-core machine it competes with the server, so compare figures
measured with the same client (the ratios), not with wrk's absolute numbers.
"""
from __future__ import annotations

import os
import resource
import socket
import statistics
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from urllib.parse import urlsplit


@dataclass
class LoadResult:
    requests: int = 0
    errors: int = 0
    seconds: float = 0.0
    statuses: dict[int, int] = field(default_factory=dict)
    latencies: list[float] = field(default_factory=list)
    body_bytes: int = 0          # of the last response (they are all the same request)
    client_cpu_seconds: float = 0.0

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def percentile(self, share: float) -> float:
        if not self.latencies:
            return 0.0
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(share * len(ordered)))]

    @property
    def p50(self) -> float:
        return statistics.median(self.latencies) if self.latencies else 0.0


def build_request(method: str, url: str, headers: dict[str, str] | None = None, body: bytes = b"") -> bytes:
    """The raw HTTP/1.1 request, prepared once."""
    parts = urlsplit(url)
    target = parts.path or "/"
    if parts.query:
        target += "?" + parts.query
    lines = [f"{method} {target} HTTP/1.1", f"Host: {parts.netloc}", "User-Agent: bench-load/1.0",
             "Accept: */*"]
    lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
    if body or method == "POST":
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


class _Connection:
    def __init__(self, host: str, port: int) -> None:
        self.address = (host, port)
        self.sock: socket.socket | None = None
        self.buffer = b""

    def close(self) -> None:
        if self.sock is not None:
            self.sock.close()
        self.sock, self.buffer = None, b""

    def _fill(self) -> None:
        data = self.sock.recv(65536)  # type: ignore[union-attr]
        if not data:
            raise ConnectionError("closed")
        self.buffer += data

    def exchange(self, request: bytes) -> tuple[int, int, bool]:
        """Send the request, read one response; (status, body bytes, server closes)."""
        if self.sock is None:
            self.sock = socket.create_connection(self.address, timeout=30)
            self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock.sendall(request)
        while b"\r\n\r\n" not in self.buffer:
            self._fill()
        head, _, self.buffer = self.buffer.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip().lower()
        close = headers.get("connection") == "close" or lines[0].startswith("HTTP/1.0")
        if "content-length" in headers:
            length = int(headers["content-length"])
            while len(self.buffer) < length:
                self._fill()
            self.buffer = self.buffer[length:]
        elif headers.get("transfer-encoding") == "chunked":
            length = 0
            while True:
                while b"\r\n" not in self.buffer:
                    self._fill()
                size_line, _, self.buffer = self.buffer.partition(b"\r\n")
                size = int(size_line.split(b";")[0], 16)
                while len(self.buffer) < size + 2:
                    self._fill()
                self.buffer = self.buffer[size + 2:]
                length += size
                if size == 0:
                    break
        else:  # the body runs to the end of the connection
            try:
                while True:
                    self._fill()
            except ConnectionError:
                pass
            length, self.buffer, close = len(self.buffer), b"", True
        return status, length, close


def _process(host: str, port: int, request: bytes, connections: int, deadline: float) -> LoadResult:
    result = LoadResult()
    lock = threading.Lock()
    began = resource.getrusage(resource.RUSAGE_SELF)

    def run() -> None:
        connection = _Connection(host, port)
        latencies, statuses, errors, size = [], {}, 0, 0
        while time.monotonic() < deadline:
            started = time.perf_counter()
            try:
                status, size, close = connection.exchange(request)
            except (OSError, ValueError, IndexError):
                errors += 1
                connection.close()
                time.sleep(0.01)  # a refused connection fails at once: do not spin
                continue
            latencies.append(time.perf_counter() - started)
            statuses[status] = statuses.get(status, 0) + 1
            if close:
                connection.close()
        connection.close()
        with lock:
            result.latencies.extend(latencies)
            result.errors += errors
            result.body_bytes = size or result.body_bytes
            for status, count in statuses.items():
                result.statuses[status] = result.statuses.get(status, 0) + count

    threads = [threading.Thread(target=run) for _ in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    ended = resource.getrusage(resource.RUSAGE_SELF)
    result.client_cpu_seconds = (ended.ru_utime - began.ru_utime) + (ended.ru_stime - began.ru_stime)
    result.requests = len(result.latencies)
    return result


def hammer(method: str, url: str, *, headers: dict[str, str] | None = None, body: bytes = b"",
           seconds: float = 10.0, connections: int = 32, processes: int = 2, warm_up: float = 1.0) -> LoadResult:
    """Keep `connections` requests in flight for `seconds` (after a short warm-up); the figures."""
    parts = urlsplit(url)
    request = build_request(method, url, headers, body)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    per_process = [connections // processes + (1 if i < connections % processes else 0) for i in range(processes)]
    if warm_up:
        _process(host, port, request, min(4, connections), time.monotonic() + warm_up)
    with ProcessPoolExecutor(processes) as pool:
        started = time.monotonic()
        deadline = started + seconds
        futures = [pool.submit(_process, host, port, request, n, deadline) for n in per_process if n]
        parts_done = [f.result() for f in futures]
        elapsed = time.monotonic() - started
    total = LoadResult(seconds=min(elapsed, seconds + 0.05) if elapsed > 0 else seconds)
    for part in parts_done:
        total.latencies.extend(part.latencies)
        total.errors += part.errors
        total.body_bytes = part.body_bytes or total.body_bytes
        total.client_cpu_seconds += part.client_cpu_seconds
        for status, count in part.statuses.items():
            total.statuses[status] = total.statuses.get(status, 0) + count
    total.requests = len(total.latencies)
    return total


if __name__ == "__main__":  # python -m bench.load URL [seconds]
    import sys

    figures = hammer("GET", sys.argv[1], seconds=float(sys.argv[2]) if len(sys.argv) > 2 else 5)
    print(f"{figures.per_second:,.0f} req/s, p50 {figures.p50 * 1000:.1f} ms, statuses {figures.statuses}, "
          f"errors {figures.errors}, client CPU {figures.client_cpu_seconds:.1f} s on {os.cpu_count()} cores")
