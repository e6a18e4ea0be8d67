"""Incremental benchmark: ``make bench`` / ``python -m bench.incremental [--large N] [--small N]``.

Builds two stores from the sample generator (``assistant.demo.sample``): a large one of at
least N stored messages (default 100,000) and a small one (default 1,000), each synced
once. Then one new reply (a customer answering a silent quote) is dropped into each
mailbox and, in this one process, the service functions the CLI calls are timed:

* ``sync``: :func:`assistant.services.sync.sync` (the Maildir listed, the new message
  stored and indexed by the read model, follow-ups reconciled), then
* ``scan`` of what changed: :func:`assistant.services.snapshot.reports` for the thread
  the reply belongs to (the read model brought current first).

Target: the large store's sync + scan within 2x of the small one's (best of
``--repeat`` rounds, each round a fresh reply). ``followup scan`` prints every thread, so
its full listing grows with the store by construction (100x the threads, 100x the
lines): it is printed beside, with its cost per thread, not compared as a whole.
Exit status: 0 when the target holds, 1 otherwise.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import timedelta
from email.utils import format_datetime
from pathlib import Path

from sqlalchemy import func, select

RATIO_MAX = 2.0
MESSAGES_PER_THREAD = 2.95
"""Stored messages per procedural thread (copies in several mailboxes are one message)."""


@dataclass
class Store:
    label: str
    root: Path
    settings: object
    engine: object
    now: object
    messages: int
    threads: int
    first_sync_s: float


def build(label: str, root: Path, want: int, seed: int) -> Store:
    from assistant.demo.sample import generate_sample
    from assistant.services.scan import open_store
    from assistant.services.sync import sync
    from assistant.settings import load_settings
    from assistant.storage import models

    threads = max(1, int(want / MESSAGES_PER_THREAD))
    shutil.rmtree(root, ignore_errors=True)  # a kept store from an earlier run
    info = generate_sample(root, threads=threads, seed=seed)
    settings = load_settings(info.settings_path)
    engine = open_store(settings)
    t0 = time.perf_counter()
    results = sync(settings, engine, now=info.now)
    first = time.perf_counter() - t0
    failed = [r for r in results if r.error]
    if failed:
        raise SystemExit(f"{label}: the first sync failed: {failed[0].error}")
    with engine.connect() as conn:
        messages = conn.scalar(select(func.count()).select_from(models.Message))
        lead = conn.scalar(select(func.count()).select_from(models.ThreadRow))
    return Store(label, root, settings, engine, info.now, messages, lead, first)


def silent_thread(store: Store, skip: set[str]) -> tuple[str, str, str, str]:
    """A thread waiting on its customer: (quote id, subject, contact, owner)."""
    from assistant.storage import models

    t = models.ThreadRow
    with store.engine.connect() as conn:
        for qid, subject, contact, owner in conn.execute(
                select(t.quote_message_id, t.subject, t.contact, t.owner)
                .where(t.base_status == "open", t.contact.is_not(None), t.owner.is_not(None))
                .order_by(t.quote_message_id)):
            if qid not in skip:
                return qid, subject, contact, owner
    raise SystemExit(f"{store.label}: no open thread to answer")


def drop_reply(store: Store, quote_id: str, subject: str, contact: str, owner: str,
               n: int) -> Path:
    """One new reply from the contact, into the owner's Maildir (``new/``)."""
    account = next((a for a in store.settings.accounts if a.owner == owner),
                   store.settings.accounts[0])
    when = store.now - timedelta(hours=1)
    message_id = f"<bench-reply-{n}-{int(time.time() * 1000)}@cliente.example>"
    data = (f"From: {contact}\r\nTo: {owner}\r\nSubject: Re: {subject}\r\n"
            f"Date: {format_datetime(when)}\r\nMessage-ID: {message_id}\r\n"
            f"In-Reply-To: {quote_id}\r\nReferences: {quote_id}\r\n"
            "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
            "Gracias, lo revisamos con el equipo y le confirmo el pedido esta semana.\r\n")
    folder = store.root / account.path / "new"
    tmp = store.root / account.path / "tmp" / f"bench-{n}"
    tmp.write_bytes(data.encode("utf-8"))
    final = folder / f"{int(time.time())}.bench{n}.incremental"
    tmp.rename(final)
    return final


def one_round(store: Store, n: int, answered: set[str]) -> tuple[float, float, str]:
    """Seconds of sync and of the changed thread's scan, and its status after."""
    from assistant.services import snapshot
    from assistant.services.rules import rules_from_settings
    from assistant.services.sync import sync
    from assistant.storage import models

    quote_id, subject, contact, owner = silent_thread(store, answered)
    answered.add(quote_id)
    drop_reply(store, quote_id, subject, contact, owner, n)
    t0 = time.perf_counter()
    results = sync(store.settings, store.engine, now=store.now)
    t1 = time.perf_counter()
    rules = rules_from_settings(store.settings)
    found = snapshot.reports(store.engine, rules, store.now,
                             where=models.ThreadRow.quote_message_id == quote_id)
    t2 = time.perf_counter()
    if sum(r.stored for r in results) != 1 or len(found) != 1:
        raise SystemExit(f"{store.label}: the reply was not stored and indexed "
                         f"({sum(r.stored for r in results)} stored, {len(found)} reports)")
    return t1 - t0, t2 - t1, found[0].status


def full_scan(store: Store) -> tuple[float, int]:
    """``followup scan --json``'s work in-process: every report, as JSON text."""
    from assistant.services.scan import scan

    t0 = time.perf_counter()
    reports = scan(store.settings, store.engine, store.now, mail_keys=False)
    json.dumps({"now": store.now.isoformat(), "threads": [r.as_json() for r in reports]},
               ensure_ascii=False)
    return time.perf_counter() - t0, len(reports)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.incremental",
                                 description=__doc__.split("\n")[0])
    ap.add_argument("--large", type=int, default=100_000, help="stored messages (default 100000)")
    ap.add_argument("--small", type=int, default=1_000, help="stored messages (default 1000)")
    ap.add_argument("--repeat", type=int, default=3, help="rounds per store (best kept)")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--keep", type=Path, default=None, help="build the stores in DIR and keep them")
    args = ap.parse_args(argv)
    work = args.keep.resolve() if args.keep else Path(tempfile.mkdtemp(prefix="followup-incr-"))
    try:
        return _bench(work, args)
    finally:
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)
        else:
            print(f"\nkept: {work}")


def _bench(work: Path, args) -> int:
    stores = []
    for label, want in (("small", args.small), ("large", args.large)):
        store = build(label, work / label, want, args.seed)
        print(f"{label}: {store.messages:,} messages, {store.threads:,} lead threads "
              f"(first sync {store.first_sync_s:.1f} s)")
        stores.append(store)
    best: dict[str, tuple[float, float]] = {}
    for store in stores:
        answered: set[str] = set()
        rounds = [one_round(store, n, answered) for n in range(args.repeat)]
        sync_s = min(r[0] for r in rounds)
        scan_s = min(r[1] for r in rounds)
        best[store.label] = (sync_s, scan_s)
        print(f"{store.label}: one new reply -> sync {sync_s * 1000:,.1f} ms, scan of the "
              f"changed thread {scan_s * 1000:,.1f} ms (now {rounds[-1][2]}; best of "
              f"{args.repeat})")
    small, large = (sum(best[label]) for label in ("small", "large"))
    ratio = large / small
    ok = ratio <= RATIO_MAX
    print()
    print(f"sync + scan after one new message: {large * 1000:,.1f} ms at "
          f"{stores[1].messages:,} messages vs {small * 1000:,.1f} ms at "
          f"{stores[0].messages:,}: {ratio:.2f}x (<= {RATIO_MAX:g}x) "
          f"{'PASS' if ok else 'FAIL'}")
    scans = [full_scan(store) for store in stores]
    (s_small, n_small), (s_large, n_large) = scans
    print(f"(info) the full `scan --json` listing, every thread: {s_small * 1000:,.1f} ms for "
          f"{n_small:,} threads, {s_large * 1000:,.1f} ms for {n_large:,} "
          f"({s_small / n_small * 1e6:,.0f} vs {s_large / n_large * 1e6:,.0f} us per thread)")
    for store in stores:
        store.engine.dispose()
    print(f"\noverall: {'PASS' if ok else 'FAIL'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
