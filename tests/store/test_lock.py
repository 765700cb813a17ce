"""Two twoku processes never write one store at once."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from twoku.errors import TwokuError
from twoku.store.writes.lock import lock_path, store_lock

HOLD = """
import sys, time
from pathlib import Path
from twoku.store.writes.lock import store_lock
with store_lock(Path(sys.argv[1])):
    print("held", flush=True)
    time.sleep(30)
"""


def test_a_second_writer_is_refused_while_the_first_holds_the_lock(store: Path) -> None:
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(store)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        with pytest.raises(TwokuError) as refused, store_lock(store):
            pass
        assert f"PID {holder.pid}" in refused.value.message
    finally:
        holder.kill()
        holder.wait()
    # the kernel released the killed holder's lock: the store is writable again
    deadline = time.monotonic() + 5
    while True:
        try:
            with store_lock(store):
                break
        except TwokuError:
            assert time.monotonic() < deadline
            time.sleep(0.05)
    assert lock_path(store).parent == store / ".git" / "twoku"


def test_the_lock_is_reentrant_across_sequential_commands(store: Path) -> None:
    for _ in range(3):
        with store_lock(store):
            pass
