"""Gmail and Graph first-sync cost: ``make bench`` / ``python -m bench.cloud_sync [--messages N]``.

Fills each loopback fake (tests/fakes: the documented API subset, driven by the real
client libraries) with one mailbox of N messages (default 20,000: 90 % Inbox, 10 % Sent;
a quarter of the Inbox filed in Inbox/Clientes or Archive), then measures in one run, per
provider:

1. the first sync (``fetch(None)`` to the end, every message downloaded): HTTP requests
   per message, API calls per message (a Gmail batch part is a call), Gmail quota units
   per message (developers.google.com/gmail/api/reference/quota: messages.list 5,
   messages.get 5, history.list 2, getProfile 1), time;
2. the resync after the provider forgot the cursor (Gmail: history id expired, 404;
   Graph: delta token 410) with 10 new messages: requests, and messages downloaded again
   (target: only the 10 new ones -- stored messages are skipped by id).

The connectors' stored-id lookup is a set of what the first sync handed over (storing is
``bench.ingest``'s subject). Graph's per-mailbox limit (10,000 requests in 10 minutes) is
lifted in the fake for the run -- honouring it, a first sync of 20,000 messages takes at
least 20 minutes whatever the client does; the request counts say how close it comes.

Targets: Gmail at most 0.06 HTTP requests per message (batches of 25 plus list pages of
100), Graph at most 1.05 (one MIME download per message plus delta pages); each resync
downloads exactly the new messages. Exit status 0 when they pass, 1 otherwise.
"""

from __future__ import annotations

import argparse
import email.utils
import os
import re
import sys
import tempfile
import time
from pathlib import Path

GMAIL_MAX = 0.06
GRAPH_MAX = 1.05
NEW = 10
UNITS = {r"POST /batch": 0, r"/messages/[0-9a-f]+\?": 5, r"/messages\?": 5, r"/history\?": 2, r"/profile": 1}


def message(n: int, *, sent: bool = False) -> bytes:
    when = email.utils.formatdate(time.time() - (n % 150) * 86400)
    who = f"cliente{n % 997}@empresa{n % 89}.example"
    head = (f"From: {'ana@aceros.example' if sent else who}\r\nTo: {who if sent else 'ana@aceros.example'}\r\n"
            f"Subject: Cotización {n // 3}\r\nDate: {when}\r\nMessage-ID: <m{n}@bench.example>\r\n")
    if n % 3:
        head += f"In-Reply-To: <m{n - 1}@bench.example>\r\nReferences: <m{n - 1}@bench.example>\r\n"
    return (head + "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
            + f"Hola, seguimos con la cotización {n // 3}. Saludos.\r\n" * 4).encode()


def fill(fake, count: int) -> None:
    for n in range(count):
        folder = "sent" if n % 10 == 9 else ("inbox/Clientes" if n % 8 == 1 else "Archive" if n % 8 == 5 else "inbox")
        fake.store.add(message(n, sent=folder == "sent"), folder)


def sync_all(connector, cursor, stored: set[str]) -> tuple[str, int]:
    got = 0
    for batch in connector.fetch(cursor):
        for raw in batch.messages:
            stored.add(raw.provider_id)
        got += len(batch.messages)
        cursor = batch.cursor
    return cursor, got


def timed_sync(connector, cursor, stored: set[str]) -> tuple[str, int, float]:
    """A fresh connector told what is stored, synced from ``cursor``: (cursor, messages
    read, seconds)."""
    c = connector()
    c.set_stored_lookup(lambda ids: {i for i in ids if i in stored})
    start = time.perf_counter()
    try:
        new_cursor, got = sync_all(c, cursor, stored)
    finally:
        c.close()
    return new_cursor, got, time.perf_counter() - start


def run_one(kind: str, count: int, work: Path) -> tuple[dict, bool]:
    from connectors._cloud import Backoff

    backoff = Backoff(tries=6, base=0.05, max_delay=2.0)
    token = work / f"{kind}-token.json"
    if kind == "gmail":
        from connectors.gmail import GmailConnector
        from tests.fakes.gmail import FakeGmail

        fake = FakeGmail(None).start()
        fake.write_token_file(token)

        def connector():
            return GmailConnector(token, root_url=fake.url, backoff=backoff, account="bench")
    else:
        from connectors.outlook import OutlookConnector
        from tests.fakes.graph import FakeGraph, write_token_file

        fake = FakeGraph(None).start()
        fake.mailbox_limit = None
        os.environ["REQUESTS_CA_BUNDLE"] = fake.ca_file
        write_token_file(fake, token)

        def connector():
            return OutlookConnector(token, base_url=fake.url, backoff=backoff, account="bench")
    try:
        fill(fake, count)
        stored: set[str] = set()
        cursor, got, seconds = timed_sync(connector, None, stored)
        log = list(fake.faults.log)
        parts = sum(1 for line in log if re.search(r"/messages/[0-9a-f]+\?.*format=raw", line)) if kind == "gmail" else 0
        batches = sum(1 for line in log if line.startswith("POST /batch"))
        http = len(log) - parts
        calls = len(log) - batches
        units = sum(next((u for p, u in UNITS.items() if re.search(p, line)), 0) for line in log) if kind == "gmail" else None
        # the provider forgets the cursor; 10 new messages arrive
        for n in range(count, count + NEW):
            fake.store.add(message(n), "inbox/Clientes")
        (fake.expire_history if kind == "gmail" else fake.expire_delta)()
        before = len(fake.faults.log)
        downloads = (r"/messages/[0-9a-f]+\?.*format=raw" if kind == "gmail" else r"/\$value")
        before_dl = fake.requests(downloads)
        _, new, resync_s = timed_sync(connector, cursor, stored)
        resync_log = fake.faults.log[before:]
        resync_http = len(resync_log) - (sum(1 for line in resync_log if re.search(downloads, line))
                                         if kind == "gmail" else 0)
        again = fake.requests(downloads) - before_dl
    finally:
        fake.stop()
    per = http / got
    ok = got == count and again == NEW and new == NEW and per <= (GMAIL_MAX if kind == "gmail" else GRAPH_MAX)
    return {"kind": kind, "messages": got, "http": http, "calls": calls, "units": units, "seconds": seconds,
            "per": per, "resync_http": resync_http, "resync_downloads": again, "resync_s": resync_s}, ok


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--messages", type=int, default=20_000)
    args = ap.parse_args(argv)
    status = 0
    with tempfile.TemporaryDirectory(prefix="followup-bench-cloud-") as tmp:
        results = []
        for kind in ("gmail", "outlook"):
            result, ok = run_one(kind, args.messages, Path(tmp))
            results.append(result)
            status |= 0 if ok else 1
            units = f", {result['units'] / result['messages']:.2f} quota units" if result["units"] is not None else ""
            print(f"{kind:8s} first sync of {result['messages']} messages: {result['http']} HTTP requests "
                  f"({result['per']:.3f} per message), {result['calls']} API calls "
                  f"({result['calls'] / result['messages']:.3f} per message){units}; "
                  f"{result['seconds']:.1f} s  {'ok' if ok else 'MISSED'}")
            print(f"{kind:8s} resync after the cursor expired, {NEW} new: {result['resync_http']} HTTP requests, "
                  f"{result['resync_downloads']} messages downloaded ({result['resync_s']:.1f} s)")
        g, o = results
        print(f"ratio Graph/Gmail HTTP requests per message: {o['per'] / g['per']:.1f}x "
              f"(Graph downloads each message's MIME on its own; Gmail batches {25} to a request)")
    return status


if __name__ == "__main__":
    sys.exit(main())
