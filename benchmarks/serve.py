"""How fast ``twoku serve`` answers: a real HTTP client on loopback, bounded in count and time.

    python benchmarks/serve.py [--store DIR] [--region 510100] [--rate 200] [--seconds 10] [--reloads 3]

Starts ``twoku serve`` on a free loopback port over the store (default: this repository, which is itself
a store), then:

* paced: a 50-line visit (the shipped rules' example lines with ordinary lines around them, one patient)
  sent at ``--rate`` requests per second for ``--seconds``: p50, p99 and the worst latency, each measured
  from when the request was due (a late request counts its wait);
* saturation: ``--clients`` connections sending as fast as answered for ``--seconds``: requests per second;
* memory: the server's resident set (VmRSS) and its peak (VmHWM) from /proc;
* reload: ``--reloads`` SIGHUPs during a paced run: how many requests failed (none should) and how long
  each reload took (from the server's log).

Only 127.0.0.1 is used; every loop is bounded by its count and by ``--seconds``.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

BACKGROUND = ("XC10AAA001A000000000000", "XA10BAA001A000000000000", "001102000030000", "C0000000000000000002")


def visit(root: Path, lines: int = 50) -> dict[str, Any]:
    """``lines`` lines of one patient: the shipped examples' lines first (so rules fire), ordinary ones after."""
    from twoku.ops.validate import load_store

    out: list[dict[str, Any]] = []
    for rule in load_store(root).library.of_kind("rule"):
        for example in rule.data.get("examples") or []:
            for line in example.get("lines") or []:
                if len(out) < lines // 2:
                    out.append({k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in line.items()})
    for table in sorted((root / "national/knowledge").rglob("*.csv"))[:20]:  # a generated store: its tables' codes
        for row in table.read_text(encoding="utf-8").splitlines()[1:3]:
            if len(out) < lines // 2:
                code = next((c for c in row.split(",") if len(c) >= 15), row.split(",")[0])
                out.append({"line_id": "", "patient_id": "P1", "item_code": code, "service_date": "2026-03-02"})
                out[-1] |= {"age": 120, "sex": "未知", "visit_type": "普通门诊", "quantity": 1}
    n = len(out)
    while len(out) < lines:
        code = BACKGROUND[len(out) % len(BACKGROUND)]
        out.append(
            {
                "line_id": f"B{len(out)}",
                "patient_id": "P1",
                "visit_id": "V1",
                "item_code": code,
                "service_date": "2026-03-02",
            }
            | {"quantity": 1, "amount": 12.5, "fund_amount": 10.0, "age": 40, "sex": "男", "visit_type": "普通门诊"}
        )
    for i, line in enumerate(out[:n]):
        line["line_id"] = f"E{i}"  # the examples reuse L1, L2 …: one visit needs each once
    return {"lines": out}


class Server:
    def __init__(self, root: Path, region: str | None, extra: list[str]) -> None:
        exe = Path(sys.executable).parent / "twoku"
        self.log = Path(tempfile.mkstemp(prefix="twoku-serve-", suffix=".log")[1])
        args = [str(exe), "serve", "--port", "0", "--format", "json", *(["--region", region] if region else []), *extra]
        with self.log.open("w") as err:
            self.proc = subprocess.Popen(args, cwd=root, stdout=subprocess.PIPE, stderr=err, text=True)
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line:
            raise SystemExit(self.log.read_text(encoding="utf-8"))
        self.info = json.loads(line)
        self.port = int(self.info["url"].rsplit(":", 1)[1])

    def memory(self) -> tuple[float, float]:
        status = Path(f"/proc/{self.proc.pid}/status").read_text()
        found = {k: int(v) for k, v in re.findall(r"^(VmRSS|VmHWM):\s+(\d+) kB", status, re.M)}
        return found["VmRSS"] / 1024, found["VmHWM"] / 1024

    def cpu_seconds(self) -> float:
        """User and system CPU time the server has used (/proc/PID/stat, in clock ticks)."""
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def _connect(port: int) -> http.client.HTTPConnection:
    con = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    con.connect()
    return con


def _post(con: http.client.HTTPConnection, body: bytes) -> int:
    con.request("POST", "/v1/check", body, {"Content-Type": "application/json"})
    answer = con.getresponse()
    answer.read()
    return answer.status


def paced(port: int, body: bytes, rate: float, seconds: float, during: Any = None) -> dict[str, Any]:
    """Requests due at ``rate`` per second for ``seconds`` from one client (keep-alive); latency from when due."""
    con = _connect(port)
    count = int(rate * seconds)
    latencies: list[float] = []
    failed = 0
    start = time.perf_counter() + 0.1
    if during is not None:
        threading.Thread(target=during, daemon=True).start()
    for i in range(count):
        due = start + i / rate
        now = time.perf_counter()
        if due > now:
            time.sleep(due - now)
        try:
            ok = _post(con, body) == 200
        except (OSError, http.client.HTTPException):
            ok = False
            con = _connect(port)
        failed += not ok
        latencies.append(time.perf_counter() - due)
    latencies.sort()
    ms = [x * 1000 for x in latencies]
    return {
        "requests": count,
        "failed": failed,
        "p50_ms": round(ms[len(ms) // 2], 3),
        "p99_ms": round(ms[int(len(ms) * 0.99) - 1], 3),
        "max_ms": round(ms[-1], 3),
    }


def saturated(port: int, body: bytes, clients: int, seconds: float) -> dict[str, Any]:
    done = [0] * clients
    stop = time.perf_counter() + seconds

    def client(n: int) -> None:
        con = _connect(port)
        while time.perf_counter() < stop:
            _post(con, body)
            done[n] += 1

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return {"clients": clients, "requests_per_second": round(sum(done) / (time.perf_counter() - started), 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--store", type=Path, default=REPO)
    parser.add_argument("--region", default="510100")
    parser.add_argument("--rate", type=float, default=200)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--lines", type=int, default=50)
    parser.add_argument("--reloads", type=int, default=3)
    parser.add_argument("--reload-seconds", type=float, default=None, help="length of the paced run with reloads")
    parser.add_argument(
        "--rules", nargs="*", default=[], help="passed to twoku serve (e.g. draft rules of a generated store)"
    )
    parser.add_argument("--joined", action="store_true", help="serve the store's rules that join a table (--rules)")
    args = parser.parse_args()
    body = json.dumps(visit(args.store, args.lines), ensure_ascii=False).encode()
    started = time.perf_counter()
    rules = list(args.rules)
    if args.joined:
        rules += sorted(
            p.stem for p in (args.store / "national/rules").rglob("*.yaml") if "match:" in p.read_text(encoding="utf-8")
        )
    server = Server(args.store, args.region, ["--rules", *rules] if rules else [])
    report: dict[str, Any] = {
        "store": str(args.store),
        "region": args.region,
        "rules": server.info["counts"]["rules"],
        "skipped": server.info["counts"]["skipped"],
        "start_seconds": round(time.perf_counter() - started, 2),
        "load_seconds": server.info["load_seconds"],
        "lines": args.lines,
        "cpus": os.cpu_count(),
        "load_average": os.getloadavg(),
    }
    try:
        con = _connect(server.port)
        con.request("POST", "/v1/check", body)
        report["hits_per_visit"] = len(json.loads(con.getresponse().read())["hits"])
        for _ in range(200):  # warm up
            _post(con, body)
        report["paced"] = paced(server.port, body, args.rate, args.seconds)
        report["memory_mib"] = dict(zip(("rss", "peak"), (round(x, 1) for x in server.memory()), strict=True))
        cpu = server.cpu_seconds()
        report["saturation"] = saturated(server.port, body, args.clients, args.seconds)
        served = report["saturation"]["requests_per_second"] * args.seconds
        # what a request costs the server whatever else runs on the machine: its CPU time over the requests
        report["server_cpu_ms_per_request"] = round((server.cpu_seconds() - cpu) / served * 1000, 3)

        span = args.reload_seconds or args.seconds

        def hup() -> None:
            for _ in range(args.reloads):
                time.sleep(span / (args.reloads + 1))
                server.proc.send_signal(signal.SIGHUP)

        report["paced_with_reloads"] = paced(server.port, body, args.rate, span, hup)
        log = server.log.read_text(encoding="utf-8")
        report["reloads"] = log.count("已载入版本")
        report["reload_log"] = [line for line in log.splitlines() if "载入" in line]
        report["memory_after_mib"] = dict(zip(("rss", "peak"), (round(x, 1) for x in server.memory()), strict=True))
    finally:
        server.stop()
    print(json.dumps(report, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
