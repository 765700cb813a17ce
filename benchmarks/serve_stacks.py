"""Which HTTP stack for ``twoku serve``: the same small JSON handler on each, timed from a loopback client.

    pip install starlette uvicorn falcon httptools uvloop   # only for this comparison
    python benchmarks/serve_stacks.py [--requests 1000] [--rate 200]

Each stack parses a 50-line body and answers a small JSON object (the judgement itself is the same
Python whatever the stack, so it is left out): p50 and p99 at ``--rate`` requests per second on one
keep-alive connection, then requests per second as fast as answered for two seconds.  The standard
library's server is run as twoku serve runs it (HTTP/1.1, Nagle's algorithm off); a stack whose package
is missing is skipped.  Only 127.0.0.1 is used.
"""

from __future__ import annotations

import argparse
import http.client
import json
import subprocess
import sys
import time

STACKS = ("stdlib", "starlette", "falcon-asgi", "raw-asgi")

SERVER = r"""
import json, sys
def work(body):
    data = json.loads(body)
    return json.dumps({"hits": [], "n": len(data["lines"])}).encode()
stack, port = sys.argv[1], int(sys.argv[2])
if stack == "stdlib":
    from http.server import ThreadingHTTPServer, BaseHTTPRequestHandler
    class H(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True
        def log_message(self, *a): pass
        def do_POST(self):
            out = work(self.rfile.read(int(self.headers.get("Content-Length", 0))))
            self.send_response(200); self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(out))); self.end_headers(); self.wfile.write(out)
    ThreadingHTTPServer(("127.0.0.1", port), H).serve_forever()
elif stack == "starlette":
    from starlette.applications import Starlette
    from starlette.responses import Response
    from starlette.routing import Route
    import uvicorn
    async def check(req):
        return Response(work(await req.body()), media_type="application/json")
    app = Starlette(routes=[Route("/v1/check", check, methods=["POST"])])
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)
elif stack == "falcon-asgi":
    import falcon.asgi, uvicorn
    class R:
        async def on_post(self, req, resp):
            resp.data = work(await req.stream.read()); resp.content_type = "application/json"
    app = falcon.asgi.App(); app.add_route("/v1/check", R())
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)
else:
    import uvicorn
    async def app(scope, receive, send):
        body = b""
        while True:
            m = await receive(); body += m.get("body", b"")
            if not m.get("more_body"): break
        out = work(body)
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(out)).encode())]})
        await send({"type": "http.response.body", "body": out})
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--rate", type=float, default=200)
    args = parser.parse_args()
    line = {"patient_id": "P1", "item_code": "XC10AAA001A000000000000", "service_date": "2024-03-01", "amount": 12.5}
    body = json.dumps({"lines": [{"line_id": f"L{i}", **line} for i in range(50)]}).encode()
    for n, stack in enumerate(STACKS):
        port = 18300 + n
        proc = subprocess.Popen([sys.executable, "-c", SERVER, stack, str(port)], stderr=subprocess.DEVNULL)
        try:
            con = None
            for _ in range(100):  # up to 5 s for the server to listen
                try:
                    con = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
                    con.connect()
                    break
                except OSError:
                    con = None
                    time.sleep(0.05)
            if con is None or proc.poll() is not None:
                print(f"{stack:12s} skipped (not installed?)")
                continue

            def one(c: http.client.HTTPConnection = con) -> float:
                started = time.perf_counter()
                c.request("POST", "/v1/check", body, {"Content-Type": "application/json"})
                c.getresponse().read()
                return time.perf_counter() - started

            for _ in range(200):
                one()
            latencies = []
            start = time.perf_counter()
            for i in range(args.requests):
                due = start + i / args.rate
                while time.perf_counter() < due:
                    time.sleep(max(0.0, due - time.perf_counter()))
                latencies.append(one())
            latencies.sort()
            count, until = 0, time.perf_counter() + 2
            while time.perf_counter() < until:
                one()
                count += 1
            p50, p99 = latencies[len(latencies) // 2] * 1000, latencies[int(len(latencies) * 0.99) - 1] * 1000
            print(f"{stack:12s} p50 {p50:.3f} ms  p99 {p99:.3f} ms  {count / 2:.0f} req/s on one connection")
        finally:
            proc.terminate()
            proc.wait()


if __name__ == "__main__":
    main()
