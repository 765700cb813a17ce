"""The HTTP side of ``twoku serve``: routes, bad requests, the bearer token, metrics, reload.

The standard library's threaded server, with Nagle's algorithm off: on loopback it answered a
50-line body as fast as uvicorn with starlette, with falcon or bare (benchmarks/serve_stacks.py runs
the same handler on each), and the judgement is Python under one interpreter lock whatever the
stack, so a framework would add a dependency and no speed (README 性能 has the figures).

Reload (SIGHUP, or ``--watch`` when the revision's commit or a ``publish/…`` tag moves) loads
the new library beside the old one and swaps one reference: a request reads the reference
once, so one in flight finishes on the library it started with.  A library that fails to load
(validate finds an error, a revision vanished) is refused and the old one keeps serving.
Nothing personal is logged: a request's line is its route, status, time and counts, never an ID.
"""

from __future__ import annotations

import contextlib
import hmac
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from twoku.errors import TwokuError
from twoku.ops.serve import BadRequest, Served, check

MAX_BODY = 4 << 20  # bytes of one request: a visit with years of the patient's earlier lines fits
DRAINED = 64 << 20  # a larger body is read to its end before the 413; past this the connection is cut
BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0)
ROUTES = {"/v1/check": "POST", "/v1/health": "GET", "/v1/ready": "GET", "/v1/info": "GET", "/metrics": "GET"}
OPEN = frozenset({"/v1/health", "/v1/ready"})  # probes answer without the token
LOOPBACK = ("127.0.0.1", "::1", "localhost")


@dataclass
class Metrics:
    """What /metrics says, in Prometheus' text format; counted under one lock."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    requests: dict[tuple[str, int], int] = field(default_factory=dict)
    buckets: list[int] = field(default_factory=lambda: [0] * (len(BUCKETS) + 1))
    seconds: float = 0.0
    observed: int = 0
    hits: dict[str, int] = field(default_factory=dict)
    reloads: dict[str, int] = field(default_factory=dict)

    def request(self, route: str, status: int, seconds: float) -> None:
        with self.lock:
            self.requests[(route, status)] = self.requests.get((route, status), 0) + 1
            if route == "/v1/check":
                n = next((i for i, bound in enumerate(BUCKETS) if seconds <= bound), len(BUCKETS))
                self.buckets[n] += 1
                self.seconds += seconds
                self.observed += 1

    def hit(self, rule_ids: list[str]) -> None:
        with self.lock:
            for rule_id in rule_ids:
                self.hits[rule_id] = self.hits.get(rule_id, 0) + 1

    def reload(self, result: str) -> None:
        with self.lock:
            self.reloads[result] = self.reloads.get(result, 0) + 1

    def text(self, served: Served) -> str:
        with self.lock:
            out = [
                "# HELP twoku_requests_total Requests answered, by route and status.",
                "# TYPE twoku_requests_total counter",
            ]
            for (route, status), n in sorted(self.requests.items()):
                out.append(f'twoku_requests_total{{route="{route}",status="{status}"}} {n}')
            out += ["# HELP twoku_check_seconds Time to answer /v1/check.", "# TYPE twoku_check_seconds histogram"]
            running = 0
            for bound, n in zip((*BUCKETS, float("inf")), self.buckets, strict=True):
                running += n
                out.append(f'twoku_check_seconds_bucket{{le="{"+Inf" if bound == float("inf") else bound}"}} {running}')
            out += [f"twoku_check_seconds_sum {self.seconds:.6f}", f"twoku_check_seconds_count {self.observed}"]
            out += ["# HELP twoku_hits_total Hits per rule.", "# TYPE twoku_hits_total counter"]
            out += [f'twoku_hits_total{{rule="{r}"}} {n}' for r, n in sorted(self.hits.items())]
            out += [
                "# HELP twoku_reloads_total Reloads, by result (ok, refused).",
                "# TYPE twoku_reloads_total counter",
            ]
            out += [f'twoku_reloads_total{{result="{r}"}} {n}' for r, n in sorted(self.reloads.items())]
        out += [
            "# HELP twoku_rules Rules judged by the library served.",
            "# TYPE twoku_rules gauge",
            f"twoku_rules {len(served.rules)}",
            "# HELP twoku_library Library served (1), by region and revision.",
            "# TYPE twoku_library gauge",
            f'twoku_library{{region="{served.region}",revision="{served.revision}"}} 1',
        ]
        return "\n".join(out) + "\n"


class Service:
    """The library served and how to load the next: the state every request and reload shares."""

    def __init__(
        self, served: Served, loader: Callable[[], Served], log: Callable[[str], None], token: str | None = None
    ) -> None:
        self.served = served
        self.loader = loader
        self.log = log
        self.token = token
        self.metrics = Metrics()
        self.reloading = threading.Lock()
        settle()

    def reload(self) -> bool:
        """Load the library again beside the one serving and swap; refused, the old one serves on."""
        with self.reloading:
            try:
                fresh = self.loader()
            except TwokuError as exc:
                self.metrics.reload("refused")
                self.log(f"重新载入被拒绝，继续使用版本 {self.served.revision[:12]}：{exc.message}")
                return False
            finally:
                settle()
            self.served = fresh  # one reference: requests in flight keep the library they read
            self.metrics.reload("ok")
            self.log(f"已载入版本 {fresh.revision[:12]}：规则 {len(fresh.rules)} 条，未执行 {len(fresh.skipped)} 条")
            return True

    def handle(self, method: str, path: str, headers: dict[str, str], body: bytes | None) -> tuple[int, str, bytes]:
        """(status, content type, body) of one request; never raises."""
        route = path.split("?", 1)[0]
        started = time.perf_counter()
        served = self.served
        try:
            status, kind, out, hits = self._route(served, method, route, headers, body)
        except BadRequest as bad:
            status, kind, out, hits = bad.status, "application/json", _error(bad.status, bad.message, bad.field), []
        except Exception as exc:  # a bug must not stop the service; the log names its kind, never the data
            self.log(f"内部错误：{type(exc).__name__}")
            status, kind, out, hits = 500, "application/json", _error(500, "内部错误，请联系运维查看日志"), []
        seconds = time.perf_counter() - started
        name = route if route in ROUTES else "other"
        self.metrics.request(name, status, seconds)
        if hits:
            self.metrics.hit(hits)
        return status, kind, out

    def _route(
        self, served: Served, method: str, route: str, headers: dict[str, str], body: bytes | None
    ) -> tuple[int, str, bytes, list[str]]:
        if route not in ROUTES:
            raise BadRequest(404, f"没有 {route} 这个接口：可用 " + "、".join(ROUTES))
        if method != ROUTES[route]:
            raise BadRequest(405, f"{route} 只接受 {ROUTES[route]}")
        if self.token is not None and route not in OPEN and not self._authorised(headers):
            raise BadRequest(401, "需要令牌：请求头 Authorization: Bearer <令牌>")
        if route == "/v1/health":
            return 200, "application/json", _json({"status": "ok"}), []
        if route == "/v1/ready":
            return 200, "application/json", _json({"status": "ready", "revision": served.revision}), []
        if route == "/v1/info":
            return 200, "application/json", _json(served.info()), []
        if route == "/metrics":
            return 200, "text/plain; version=0.0.4; charset=utf-8", self.metrics.text(served).encode(), []
        try:
            data = json.loads(body or b"")
        except (ValueError, UnicodeDecodeError):
            raise BadRequest(400, "请求体不是有效的 JSON（UTF-8）") from None
        answer = check(served, data)
        return 200, "application/json", _json(answer), [h["rule_id"] for h in answer["hits"]]

    def _authorised(self, headers: dict[str, str]) -> bool:
        given = headers.get("authorization", "")
        scheme, _, value = given.partition(" ")
        return scheme.lower() == "bearer" and hmac.compare_digest(value.strip().encode(), str(self.token).encode())


def settle() -> None:
    """After a load, free what it built to read and check the store (only the compiled library stays): a
    command's reading leaves it for the process's end (ops/lifetime.py, gc.freeze), which a server never
    reaches; glibc is asked to give the freed heap back to the system."""
    import ctypes
    import gc

    from twoku.ops import lifetime

    lifetime.long_lived()
    gc.unfreeze()
    gc.collect()
    with contextlib.suppress(OSError, AttributeError):  # not glibc: the memory is reused, not returned
        ctypes.CDLL("libc.so.6").malloc_trim(0)


def _json(data: Any) -> bytes:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _error(status: int, message: str, name: str | None = None) -> bytes:
    return _json({"error": {"status": status, "message": message, **({"field": name} if name else {})}})


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body leave at once: no 40 ms wait for a delayed ACK
    service: Service
    server_version = "twoku"
    sys_version = ""

    def log_message(self, format: str, *args: Any) -> None:
        pass  # the service logs its own line, without the client's address or the path's query

    def _answer(self, status: int, kind: str, body: bytes, close: bool = False) -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        if status == 401:
            self.send_header("WWW-Authenticate", 'Bearer realm="twoku"')
        if close:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        self.wfile.write(body)

    def _serve(self, method: str) -> None:
        body = None
        headers = {k.lower(): v for k, v in self.headers.items()}
        if method == "POST":
            if "chunked" in headers.get("transfer-encoding", "").lower():
                self._refuse(411, "请求须带 Content-Length（不接受分块传输）")
                return
            try:
                length = int(headers.get("content-length", "0"))
            except ValueError:
                self._refuse(400, "Content-Length 不是整数")
                return
            if length > MAX_BODY or length < 0:
                if 0 < length <= DRAINED:  # read and dropped, so the client hears the answer, not a reset
                    for _ in range(0, length, 1 << 16):
                        self.rfile.read(min(1 << 16, length))
                        length -= 1 << 16
                self._refuse(413, f"请求体超过 {MAX_BODY >> 20} MiB：成批的明细请用 twoku run")
                return
            body = self.rfile.read(length)
        started = time.perf_counter()
        status, kind, out = self.service.handle(method, self.path, headers, body)
        self._answer(status, kind, out)
        route = self.path.split("?", 1)[0]
        took = (time.perf_counter() - started) * 1000
        self.service.log(f"{method} {route if route in ROUTES else '（未知路径）'} {status} {took:.2f}ms")

    def _refuse(self, status: int, message: str) -> None:
        """Answer and close: the body left unread cannot be told from the next request."""
        self.service.metrics.request("other" if self.path not in ROUTES else self.path, status, 0.0)
        self._answer(status, "application/json", _error(status, message), close=True)

    def do_GET(self) -> None:
        self._serve("GET")

    def do_POST(self) -> None:
        self._serve("POST")

    def do_PUT(self) -> None:
        self._serve("PUT")

    def do_DELETE(self) -> None:
        self._serve("DELETE")


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def make_server(service: Service, host: str, port: int) -> Server:
    """The server bound to ``host:port`` (port 0: any free port; ``server_address`` says which)."""
    import socket

    handler = type("Handler", (_Handler,), {"service": service})
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    bound = type("Bound", (Server,), {"address_family": family})
    return bound((host, port), handler)  # type: ignore[no-any-return]


def watch(
    service: Service, fingerprint: Callable[[], str], seen: str, stop: threading.Event, every: float = 2.0
) -> None:
    """Reload when the fingerprint (the revision's commit and the publish tags) moves from ``seen`` (taken
    before the library serving was loaded), until ``stop``."""
    while not stop.wait(every):
        try:
            now = fingerprint()
        except TwokuError as exc:
            service.log(f"查看仓库版本失败：{exc.message}")
            continue
        if now != seen:
            seen = now
            service.reload()


def read_token(path: Path) -> str:
    """The bearer token in ``path`` (its first line); UsageError when there is none to read."""
    from twoku.errors import UsageError

    try:
        token = path.read_text(encoding="utf-8").strip().splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"--token-file {path}：读不出令牌（{type(exc).__name__}）") from None
    if not token or len(token[0].strip()) < 16:
        raise UsageError(f"--token-file {path}：令牌应为至少 16 个字符的一行", hint="如：openssl rand -hex 32 > token")
    return token[0].strip()


def refuse_open_host(host: str, token: str | None) -> None:
    """An address beyond loopback only with a token: judgements must not be open to the network."""
    from twoku.errors import UsageError

    if host not in LOOPBACK and token is None:
        raise UsageError(
            f"--host {host} 不是本机回环地址：对外提供服务须设置 --token-file",
            hint="缺省只在 127.0.0.1 上监听；对外监听时用令牌文件要求 Authorization: Bearer",
        )
