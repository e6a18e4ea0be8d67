"""IMAP benchmark: ``make bench`` / ``python -m bench.imap [--messages N] [--batch N]``.

Starts a throw-away Dovecot on loopback (as the tests do: ``tests/dovecot.py``), fills
one user's INBOX with N sample messages (default 20,000, from ``assistant.demo.sample``,
written straight into its Maildir), then measures in the same run:

Steps 1 and 2 alternate three times; the best time of each counts.

1. the floor: a bare ``imaplib`` session fetching ``BODY.PEEK[HEADER]`` of every message
   in batches (login, select, search, fetch);
2. the connector's first sync: ``ImapConnector.fetch(None)`` to the end (headers,
   BODYSTRUCTURE, text and report parts; assembled messages) -- target: at most 1.5x
   the floor;
3. the connector's no-op sync: a fresh connection and ``fetch(cursor)`` with nothing
   new -- target: under 0.5 s;
4. for information, ``followup``'s whole first sync into SQLite (parse + store).

Exit status: 0 when the targets pass, 1 otherwise, 2 when Dovecot cannot run here.
"""

from __future__ import annotations

import argparse
import imaplib
import os
import sys
import tempfile
import time
from pathlib import Path

RATIO_MAX = 1.5
NOOP_MAX_S = 0.5
ROUNDS = 3


def fill_maildir(server, count: int, work: Path) -> tuple[str, int]:
    """A new user with ``count`` sample messages written into its INBOX Maildir (files
    owned by the mail uid, as Dovecot's own delivery would leave them)."""
    from assistant.demo.sample import generate_sample

    threads = int(count / 4.0) + 50
    info = generate_sample(work / "sample", threads=threads, seed=11)
    files = sorted(p for p in (work / "sample" / "mail").rglob("*") if p.is_file())
    if len(files) < count:
        raise SystemExit(f"the sample has {len(files)} messages, fewer than {count}")
    del info
    user = server.new_user("bench", folders=())  # logs in once: creates the home
    maildir = server.dir / "mail" / user / "Maildir"
    for sub in ("cur", "new", "tmp"):
        (maildir / sub).mkdir(parents=True, exist_ok=True)
    stamp = int(time.time())
    for n, path in enumerate(files[:count]):
        (maildir / "cur" / f"{stamp}.M{n}P1.bench:2,S").write_bytes(path.read_bytes())
    for root, dirs, names in os.walk(server.dir / "mail" / user):
        os.chown(root, server.uid, server.gid)
        for name in names:
            os.chown(os.path.join(root, name), server.uid, server.gid)
    return user, count


def floor(host: str, port: int, user: str, batch: int) -> tuple[float, int]:
    t0 = time.perf_counter()
    imap = imaplib.IMAP4(host, port)
    imap.login(user, "secret")
    imap.select("INBOX", readonly=True)
    typ, data = imap.uid("SEARCH", "ALL")
    uids = data[0].split()
    got = 0
    for start in range(0, len(uids), batch):
        chunk = b",".join(uids[start:start + batch]).decode()
        typ, data = imap.uid("FETCH", chunk, "(BODY.PEEK[HEADER])")
        got += sum(1 for item in data if isinstance(item, tuple))
    imap.logout()
    return time.perf_counter() - t0, got


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--messages", type=int, default=20_000)
    ap.add_argument("--batch", type=int, default=500)
    args = ap.parse_args(argv)

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from tests.dovecot import dovecot_problem, start_dovecot
    from connectors.imap import ImapConnector

    problem = dovecot_problem()
    if problem:
        print(f"bench.imap: cannot run: {problem}", file=sys.stderr)
        return 2
    work = Path(tempfile.mkdtemp(prefix="followup-bench-imap-"))
    server = start_dovecot(work / "dovecot")
    try:
        t = time.perf_counter()
        user, n = fill_maildir(server, args.messages, work)
        print(f"IMAP bench: {n} messages written to a Dovecot Maildir in {time.perf_counter() - t:.1f} s")
        # Dovecot indexes a Maildir on first access: do that before timing anyone.
        t = time.perf_counter()
        with server.client(user) as imap:
            imap.select("INBOX", readonly=True)
            imap.fetch("1:*", "(UID)")
        print(f"  index built by Dovecot        {time.perf_counter() - t:7.2f} s (not counted)")

        def connector():
            return ImapConnector(server.host, user, password="secret", port=server.port,
                                 tls="none", folders=["INBOX"], batch_size=args.batch)

        def first_sync() -> tuple[float, int, str, int]:
            t = time.perf_counter()
            conn = connector()
            read, cursor, size = 0, None, 0
            for batch in conn.fetch(None):
                read += len(batch.messages)
                size += sum(len(m.data) for m in batch.messages)
                cursor = batch.cursor
            conn.close()
            return time.perf_counter() - t, read, cursor, size

        # Alternate the two, best of ROUNDS each: a shared machine's noise hits both alike.
        floor_s = first_s = float("inf")
        for _ in range(ROUNDS):
            seconds, got = floor(server.host, server.port, user, args.batch)
            assert got == n, (got, n)
            floor_s = min(floor_s, seconds)
            seconds, read, cursor, size = first_sync()
            assert read == n, (read, n)
            first_s = min(first_s, seconds)

        t = time.perf_counter()
        conn = connector()
        again = sum(len(b.messages) for b in conn.fetch(cursor))
        conn.close()
        noop_s = time.perf_counter() - t
        assert again == 0

        from assistant.storage.db import open_database
        from assistant.services.ingest import sync_account

        engine = open_database(f"sqlite:///{work / 'bench.db'}")
        t = time.perf_counter()
        result = sync_account(engine, "bench", "imap", connector())
        store_s = time.perf_counter() - t
        assert result.read == n

        ratio = first_s / floor_s
        ok_ratio, ok_noop = ratio <= RATIO_MAX, noop_s < NOOP_MAX_S
        print(f"  floor: imaplib BODY.PEEK[HEADER] {floor_s:7.2f} s  ({n / floor_s:,.0f} msg/s)")
        print(f"  connector first sync          {first_s:7.2f} s  ({n / first_s:,.0f} msg/s, "
              f"{size / n:,.0f} B/msg assembled)  = {ratio:.2f}x floor  "
              f"[target <= {RATIO_MAX}x: {'PASS' if ok_ratio else 'FAIL'}]")
        print(f"  connector no-op sync          {noop_s:7.3f} s  "
              f"[target < {NOOP_MAX_S} s: {'PASS' if ok_noop else 'FAIL'}]")
        print(f"  followup sync into SQLite     {store_s:7.2f} s  (fetch + parse + store; for information)")
        return 0 if ok_ratio and ok_noop else 1
    finally:
        server.stop()
        import shutil

        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
