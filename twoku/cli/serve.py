"""``twoku serve``: the region's rules as a decision service (事前提醒, 支付审核) on HTTP."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from twoku.cli.application import LISTS, Format, app, guarded, listed, stdout

if TYPE_CHECKING:
    from twoku.ops.serve import Served


@app.command("serve", context_settings=LISTS)
@guarded
def serve(
    ctx: typer.Context,
    region: str = typer.Option(None, "--region", "-r", help="地区代码：按该地生效库及本地化参数判断，如 510100"),
    host: str = typer.Option("127.0.0.1", "--host", help="监听地址；缺省只在本机回环地址上监听"),
    port: int = typer.Option(8181, "--port", help="监听端口（0：任选一个空闲端口，启动信息中给出）"),
    use: list[str] = typer.Option(
        None, "--use", help="只载入这些应用场景的规则：--use 事前提醒（可重复或用逗号分隔）；缺省为全部"
    ),
    rules: list[str] = typer.Option(None, "--rules", help="只载入这些规则：--rules A B C（或重复 --rules）"),
    revision: str = typer.Option("HEAD", "--revision", help="载入哪个已提交的版本：分支、标签（如 publish/…）或提交号"),
    token_file: Path = typer.Option(None, "--token-file", help="令牌文件：请求须带 Authorization: Bearer <令牌>"),
    watch: bool = typer.Option(False, "--watch", help="分支或 publish/… 标签移动时自动重新载入"),
    fmt: Format = typer.Option(Format.text, "--format", "-f", help="启动信息的格式（json：一行，写到标准输出）"),
) -> None:
    """以 HTTP 服务提供某地区生效规则的实时判断（事前提醒、支付审核，第十九条）。

    载入的是已提交的版本（不是工作区），先经 twoku validate 检查；有错误的版本拒绝载入。
    每个请求在内存中判断，与 twoku run（DuckDB）结果相同。无法在内存中等价判断的规则
    在启动信息和 /v1/info 中列出，不参与判断。

    接口：POST /v1/check（一次就诊的明细 lines，可附该参保人以往的明细 history）、
    GET /v1/health、/v1/ready、/v1/info、/metrics（Prometheus）。
    发送 SIGHUP 或加 --watch 时重新载入：新库载入成功后原子替换，失败则继续使用旧库。
    日志不记录任何人员编号、明细流水号等个人信息。

    示例：

      twoku serve --region 510100 --use 事前提醒

      curl -s localhost:8181/v1/check -d @visit.json

      curl -s localhost:8181/v1/info

      twoku serve -r 510100 --host 0.0.0.0 --token-file token --watch
    """
    import datetime as dt
    import signal
    import sys
    import threading

    from twoku.model.controls import visible
    from twoku.ops import serve as ops
    from twoku.ops import server
    from twoku.store.files import find_root
    from twoku.store.repo import snapshot

    root = find_root()
    token = server.read_token(token_file) if token_file is not None else None
    server.refuse_open_host(host, token)
    uses = [u for part in use or () for u in part.replace("，", ",").split(",") if u.strip()]
    chosen = listed(ctx, rules, "--rules")
    lock = threading.Lock()

    def log(message: str) -> None:  # one line each, whole, from any thread; IDs never reach it
        stamp = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        with lock:
            sys.stderr.write(f"{stamp} {visible(message)}\n")
            sys.stderr.flush()

    def load() -> ops.Served:
        return ops.load(root, region, uses, chosen, revision)

    # A reload reads and checks the store in a thread beside the requests: switching every millisecond (not 5)
    # lets a request take the interpreter between the reload's steps
    sys.setswitchinterval(0.001)
    seen = snapshot.fingerprint(root, revision) if watch else ""  # before loading: no move goes unseen
    served = load()
    service = server.Service(served, load, log, token)
    try:
        httpd = server.make_server(service, host, port)
    except OSError as exc:
        from twoku.errors import UsageError

        raise UsageError(
            f"无法在 {host}:{port} 上监听：{exc.strerror or exc}", hint="换一个 --port，或停止占用它的程序"
        ) from None
    bound = httpd.server_address
    url = f"http://{host if ':' not in host else f'[{host}]'}:{bound[1]}"
    stop = threading.Event()
    signal.signal(signal.SIGHUP, lambda *_: threading.Thread(target=service.reload, daemon=True).start())
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=httpd.shutdown, daemon=True).start())
    if watch:
        threading.Thread(
            target=server.watch, args=(service, lambda: snapshot.fingerprint(root, revision), seen, stop), daemon=True
        ).start()
    _started(served, url, fmt, log)  # after the signals are ours: a SIGHUP right after it reloads, never kills
    try:
        httpd.serve_forever()
    finally:
        stop.set()
        httpd.server_close()
        log("已停止")


def _started(served: Served, url: str, fmt: Format, log: Callable[[str], None]) -> None:
    if fmt is Format.json:
        out = stdout()
        out.file.write(json.dumps({"url": url, **served.info()}, ensure_ascii=False) + "\n")
        out.file.flush()
    said = (
        f"twoku serve：{served.region_name}（{served.region}）版本 {served.revision[:12]}，"
        f"判断规则 {len(served.rules)} 条，监听 {url}"
    )
    log(said)
    for skipped in served.skipped:
        log(f"未执行 {skipped.rule_id}：{skipped.reason}")
