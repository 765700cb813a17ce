"""twoku serve as a bureau runs it: a separate process on a loopback port of a real git store, asked over
HTTP; reloaded by SIGHUP and by --watch; bad requests answered, never a crash; no personal data logged."""

from __future__ import annotations

import http.client
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests import fakes
from tests.storefactory import commit_all, git

LOOPBACK = "127.0.0.1"
# 30 days of one drug on an ordinary prescription: CN-R-0020 (药品超量开药) flags it over its 7 days
CHILD = {"line_id": "L1", "patient_id": "P1", "visit_id": "V1", "supply_days": 30, "visit_type": "普通门诊"}
CHILD |= {"item_code": "XR05XXX089N000000000000", "service_date": "2027-03-02", "fund_amount": 9.8}
RULE = "CN-R-0020"


class Served:
    def __init__(self, proc: subprocess.Popen[str], info: dict[str, Any], log: Path) -> None:
        self.proc = proc
        self.info = info
        self.port = int(info["url"].rsplit(":", 1)[1])
        self.log = log

    def ask(self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None) -> tuple[int, Any]:
        con = http.client.HTTPConnection(LOOPBACK, self.port, timeout=30)
        raw = body if isinstance(body, bytes) or body is None else json.dumps(body).encode()
        con.request(method, path, raw, headers or {})
        answer = con.getresponse()
        data = answer.read()
        con.close()
        kind = answer.getheader("Content-Type", "")
        return answer.status, json.loads(data) if "json" in kind else data.decode()

    def revision_becomes(self, wanted: str) -> bool:
        for _ in range(300):  # bounded: 30 s at most
            if self.ask("GET", "/v1/info")[1]["revision"] == wanted:
                return True
            time.sleep(0.1)
        return False


def _start(root: Path, *args: str) -> Served:
    exe = Path(sys.executable).parent / "twoku"
    log = root.parent / f"serve-{time.monotonic_ns()}.log"
    env = {**os.environ, "NO_COLOR": "1"}
    cmd = [str(exe), "serve", "--port", "0", "--format", "json", *args]
    with log.open("w") as err:
        proc = subprocess.Popen(cmd, cwd=root, stdout=subprocess.PIPE, stderr=err, text=True, env=env)
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if not line:
        proc.wait(timeout=30)
        raise AssertionError(log.read_text(encoding="utf-8"))
    return Served(proc, json.loads(line), log)


@pytest.fixture
def serving(shipped: Path) -> Iterator[tuple[Path, list[Served]]]:
    started: list[Served] = []
    yield shipped, started
    for s in started:
        if s.proc.poll() is None:
            s.proc.send_signal(signal.SIGTERM)
            try:
                s.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                s.proc.kill()
                s.proc.wait()


def _serve(serving: tuple[Path, list[Served]], *args: str) -> Served:
    s = _start(serving[0], *args)
    serving[1].append(s)
    return s


def _head(root: Path) -> str:
    return subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True).stdout.strip()


def test_a_visit_is_judged_with_the_regions_rules_and_the_monitoring_point_as_published(serving: Any) -> None:
    s = _serve(serving, "--region", "510100", "--use", "事前提醒")
    assert s.info["region"] == "510100" and s.info["revision"] == _head(serving[0])
    status, answer = s.ask(
        "POST", "/v1/check", {"lines": [CHILD, {**CHILD, "line_id": "L2", "visit_id": "V2", "supply_days": 3}]}
    )
    assert status == 200, answer
    hits = [h for h in answer["hits"] if h["rule_id"] == RULE]
    assert [h["line_id"] for h in hits] == ["L1"]
    assert hits[0]["level"] == "可疑" and "30" in hits[0]["evidence"]
    assert "普通处方超过7天" in hits[0]["monitoring_point"] and "{{" not in hits[0]["monitoring_point"]
    assert (answer["region"], answer["revision"]) == ("510100", s.info["revision"])
    rules = {r["id"] for r in s.info["rules"]}
    assert RULE in rules and s.info["counts"]["rules"] == len(rules)
    assert all(
        "事前提醒" in yaml.safe_load(p.read_text(encoding="utf-8")).get("uses", []) for p in _paths(serving[0], rules)
    )


def _paths(root: Path, ids: set[str]) -> list[Path]:
    return [p for p in (root / "national/rules").rglob("*.yaml") if p.stem in ids]


def test_earlier_lines_count_for_windows_but_are_not_judged(serving: Any) -> None:
    s = _serve(serving, "--region", "510100")
    earlier = {**CHILD, "line_id": "H1"}
    status, answer = s.ask("POST", "/v1/check", {"lines": [{**CHILD, "supply_days": 3}], "history": [earlier]})
    assert status == 200
    assert all(h["line_id"] != "H1" for h in answer["hits"])


def test_bad_requests_are_answered_with_the_field_named_never_a_crash(serving: Any) -> None:
    s = _serve(serving)
    assert s.ask("POST", "/v1/check", b"{not json")[0] == 400
    status, answer = s.ask("POST", "/v1/check", {"lines": [{**CHILD, "service_date": "2026-13-40"}]})
    assert status == 422 and answer["error"]["field"] == "lines[0].service_date"
    assert "YYYY-MM-DD" in answer["error"]["message"] and "2026-13-40" not in answer["error"]["message"]
    status, answer = s.ask("POST", "/v1/check", {"lines": [{**CHILD, "sexx": "女"}]})
    assert (
        status == 422 and "没有这个字段" in answer["error"]["message"] and answer["error"]["field"] == "lines[0].sexx"
    )
    status, answer = s.ask("POST", "/v1/check", {"lines": []})
    assert status == 422 and answer["error"]["field"] == "lines"
    status, answer = s.ask("POST", "/v1/check", {"lines": [CHILD, CHILD]})
    assert status == 422 and "重复" in answer["error"]["message"]
    status, answer = s.ask("POST", "/v1/check", b"x" * (5 << 20))
    assert status == 413
    assert s.ask("GET", "/v1/nothing")[0] == 404
    assert s.ask("GET", "/v1/check")[0] == 405
    assert s.ask("GET", "/v1/health") == (200, {"status": "ok"})
    assert s.ask("GET", "/v1/ready")[0] == 200
    metrics = s.ask("GET", "/metrics")[1]
    assert 'twoku_requests_total{route="/v1/check",status="422"} 4' in metrics
    assert "twoku_check_seconds_bucket" in metrics and s.proc.poll() is None


def test_with_a_token_file_requests_need_the_bearer_token_but_probes_do_not(serving: Any, tmp_path: Path) -> None:
    token = tmp_path / "token"
    token.write_text("s3cret-token-of-the-bureau\n", encoding="utf-8")
    s = _serve(serving, "--token-file", str(token))
    assert s.ask("POST", "/v1/check", {"lines": [CHILD]})[0] == 401
    assert s.ask("GET", "/v1/info", headers={"Authorization": "Bearer wrong-token-of-someone"})[0] == 401
    assert s.ask("GET", "/v1/info", headers={"Authorization": "Bearer s3cret-token-of-the-bureau"})[0] == 200
    assert s.ask("GET", "/metrics")[0] == 401
    assert s.ask("GET", "/v1/health")[0] == 200


def test_it_binds_loopback_unless_given_a_token(shipped: Path) -> None:
    from tests.conftest import run_twoku

    result = run_twoku("serve", "--host", "0.0.0.0", "--port", "0", cwd=shipped)
    assert result.returncode == 2
    assert "--token-file" in result.stderr and "Traceback" not in result.stderr


def test_no_personal_data_reaches_the_log(serving: Any) -> None:
    s = _serve(serving)
    resident = fakes.ID
    line = {**CHILD, "patient_id": resident, "line_id": fakes.MOBILE, "visit_id": "V-秘密"}
    assert s.ask("POST", "/v1/check", {"lines": [line]})[0] == 200
    assert s.ask("POST", "/v1/check", {"lines": [{**line, "age": "三十"}]})[0] == 422
    assert s.ask("GET", f"/v1/patients/{resident}")[0] == 404
    s.proc.send_signal(signal.SIGTERM)
    s.proc.wait(timeout=20)
    log = s.log.read_text(encoding="utf-8")
    assert "POST /v1/check 200" in log
    for secret in (resident, fakes.MOBILE, "V-秘密", "三十"):
        assert secret not in log


def _rule_file(root: Path, rule_id: str) -> Path:
    return next((root / "national/rules").rglob(f"{rule_id}.yaml"))


def test_sighup_reloads_a_valid_commit_and_refuses_an_invalid_one(serving: Any) -> None:
    root = serving[0]
    s = _serve(serving, "--region", "510100")
    first = s.info["revision"]
    (root / "说明.txt").write_text("本库的说明\n", encoding="utf-8")
    commit_all(root, "说明（测试）")
    second = _head(root)
    s.proc.send_signal(signal.SIGHUP)
    assert s.revision_becomes(second)
    path = _rule_file(root, RULE)
    path.write_text(path.read_text(encoding="utf-8").replace("    value: 7\n", "    value: 40\n", 1), encoding="utf-8")
    commit_all(root, "改了生效规则却未重新论证（测试）")  # validate: the sign-off is stale, an error
    s.proc.send_signal(signal.SIGHUP)
    metrics = ""
    for _ in range(300):  # bounded: 30 s at most
        metrics = s.ask("GET", "/metrics")[1]
        if 'twoku_reloads_total{result="refused"} 1' in metrics:
            break
        time.sleep(0.1)
    assert 'twoku_reloads_total{result="refused"} 1' in metrics
    assert 'twoku_reloads_total{result="ok"} 1' in metrics
    assert s.ask("GET", "/v1/info")[1]["revision"] == second != first
    answer = s.ask("POST", "/v1/check", {"lines": [CHILD]})[1]
    assert RULE in {h["rule_id"] for h in answer["hits"]}  # still judged with 7 days
    assert s.proc.poll() is None
    s.proc.send_signal(signal.SIGTERM)
    s.proc.wait(timeout=20)
    assert "重新载入被拒绝" in s.log.read_text(encoding="utf-8")


def test_watch_reloads_when_the_branch_moves_and_the_working_tree_is_never_served(serving: Any) -> None:
    root = serving[0]
    s = _serve(serving, "--region", "510100", "--watch")
    path = _rule_file(root, RULE)
    path.write_text(path.read_text(encoding="utf-8").replace("    value: 7\n", "    value: 40\n", 1), encoding="utf-8")
    (root / "说明.txt").write_text("本库的说明\n", encoding="utf-8")
    git(root, "add", "说明.txt")
    git(root, "commit", "-qm", "说明（测试）")
    assert s.revision_becomes(_head(root))
    answer = s.ask("POST", "/v1/check", {"lines": [CHILD]})[1]
    assert RULE in {h["rule_id"] for h in answer["hits"]}  # the uncommitted 40 is not served


def test_a_rule_memory_cannot_judge_alike_is_listed_at_start_and_in_info(serving: Any) -> None:
    root = serving[0]
    path = _rule_file(root, RULE)
    text = (
        path.read_text(encoding="utf-8").replace(f"id: {RULE}", "id: CN-R-9901").replace("status: 生效", "status: 草稿")
    )
    text = text.replace("{field: fund_amount, op: gt, value: 0}", "{field: fund_amount, op: gt, value: '0'}")
    path.with_name("CN-R-9901.yaml").write_text(text, encoding="utf-8")
    commit_all(root, "类型不同的比较（测试）")
    s = _serve(serving, "--region", "510100", "--rules", "CN-R-9901", RULE)
    skipped = {x["rule_id"]: x["reason"] for x in s.info["skipped"]}
    assert "类型不同" in skipped["CN-R-9901"]
    assert [r["id"] for r in s.info["rules"]] == [RULE]
    answer = s.ask("POST", "/v1/check", {"lines": [CHILD]})[1]
    assert {h["rule_id"] for h in answer["hits"]} == {RULE}
    s.proc.send_signal(signal.SIGTERM)
    s.proc.wait(timeout=20)
    assert "未执行 CN-R-9901" in s.log.read_text(encoding="utf-8")


def test_an_unknown_use_or_revision_is_a_usage_error(shipped: Path) -> None:
    from tests.conftest import run_twoku

    result = run_twoku("serve", "--use", "看病", "--port", "0", cwd=shipped)
    assert result.returncode == 2 and "应用场景" in result.stderr
    result = run_twoku("serve", "--revision", "no-such-tag", "--port", "0", cwd=shipped)
    assert result.returncode == 2 and "no-such-tag" in result.stderr


def test_a_reload_swaps_only_when_the_new_library_is_whole_and_a_refused_one_changes_nothing(shipped: Path) -> None:
    """The core API under the HTTP server: requests during a reload are answered by the library serving."""
    import dataclasses
    import threading

    from twoku.errors import TwokuError
    from twoku.ops import serve as ops
    from twoku.ops.server import Service

    old = ops.load(shipped, "510100")
    new = dataclasses.replace(old, revision="b" * 40)
    loading, release = threading.Event(), threading.Event()
    outcomes: list[ops.Served | TwokuError] = [new, TwokuError("校验失败（测试）")]

    def loader() -> ops.Served:
        loading.set()
        release.wait(30)
        got = outcomes.pop(0)
        if isinstance(got, TwokuError):
            raise got
        return got

    said: list[str] = []
    service = Service(old, loader, said.append)
    body = json.dumps({"lines": [CHILD]}).encode()
    reload = threading.Thread(target=service.reload)
    reload.start()
    assert loading.wait(30)
    status, _, answer = service.handle("POST", "/v1/check", {}, body)  # while the next one loads
    assert status == 200 and json.loads(answer)["revision"] == old.revision
    release.set()
    reload.join(30)
    assert json.loads(service.handle("GET", "/v1/info", {}, None)[2])["revision"] == "b" * 40
    assert not service.reload()  # refused: the library serving stays
    assert json.loads(service.handle("POST", "/v1/check", {}, body)[2])["revision"] == "b" * 40
    metrics = service.handle("GET", "/metrics", {}, None)[2].decode()
    assert 'twoku_reloads_total{result="ok"} 1' in metrics and 'twoku_reloads_total{result="refused"} 1' in metrics
    assert any("重新载入被拒绝" in line for line in said)
