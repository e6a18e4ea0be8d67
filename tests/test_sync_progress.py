"""``followup sync`` as a user runs it on a large first sync: the progress display does
not keep the read model from computing in worker processes, and it says when sync has
moved on from reading mail to indexing it.

Both run the installed ``followup`` on the sample team's generated mailbox (2,100 lead
threads: above ``snapshot.PARALLEL_MIN_CONVERSATIONS``, so a rebuild may use workers).
"""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
from pathlib import Path

import pytest

from assistant.demo.sample import generate_sample
from assistant.services.snapshot import PARALLEL_MIN_CONVERSATIONS

FOLLOWUP = Path(sys.prefix) / "bin" / "followup"
THREADS = PARALLEL_MIN_CONVERSATIONS + 100


@pytest.fixture(scope="module")
def large(tmp_path_factory):
    return generate_sample(tmp_path_factory.mktemp("large") / "team", threads=THREADS)


def _env(db: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FOLLOWUP_")}
    # Two workers even on a one-CPU machine: what is tested is whether they may be forked.
    env.update(FOLLOWUP_DATABASE_URL=f"sqlite:///{db}", FOLLOWUP_SYNC_WORKERS="2",
               COLUMNS="120")
    return env


def test_the_first_sync_computes_the_threads_in_worker_processes(large, tmp_path):
    """The progress bar used to redraw from a thread of its own; with that thread alive,
    forking is unsafe, so the rebuild after a large first sync silently ran in one
    process (measured: 4.7 s of 8.2 s of indexing at 100,000 messages)."""
    result = subprocess.run([str(FOLLOWUP), "--config", str(large.settings_path), "-v", "sync"],
                            env=_env(tmp_path / "f.db"), capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stderr
    assert f"computing {THREADS} conversations in 2 worker processes" in result.stderr, \
        result.stderr[-2000:]
    assert "another thread is running" not in result.stderr


def test_a_terminal_sees_the_mail_counted_then_the_indexing(large, tmp_path):
    """In a terminal, each account's line counts its messages as they are read, then a
    line says the threads are being indexed (the long quiet part of a first sync); in
    the team's language, Spanish for the sample team."""
    controller, terminal = pty.openpty()
    proc = subprocess.Popen([str(FOLLOWUP), "--config", str(large.settings_path), "sync"],
                            env=_env(tmp_path / "t.db"), stdin=subprocess.DEVNULL,
                            stdout=terminal, stderr=terminal)
    os.close(terminal)
    shown = bytearray()
    while True:
        ready, _, _ = select.select([controller], [], [], 120)
        if not ready:
            proc.kill()
            pytest.fail("no output for 120 s: " + shown[-2000:].decode("utf-8", "replace"))
        try:
            chunk = os.read(controller, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not chunk:
            break
        shown += chunk
    assert proc.wait(timeout=60) == 0, shown[-2000:]
    os.close(controller)
    text = shown.decode("utf-8", "replace")
    assert "indexando conversaciones" in text, text[-2000:]
    assert text.index("ana") < text.index("indexando conversaciones")
    counts = [int(word) for word in text.replace("\r", " ").replace("\n", " ").split()
              if word.isdigit()]
    assert counts and max(counts) >= 1000, text[-2000:]  # messages counted as they come
    assert "ana: leídos" in text
