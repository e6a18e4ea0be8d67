"""Page cost does not grow with the mailbox (issue 12).

Two sample teams (``assistant.demo.sample.generate_sample(dest, threads=N)``) at 300 and 30,000
threads, each synced once; the same twenty drafted follow-ups queued for the rep at both
sizes (what a rep's queue holds does not grow with the company's mail). Through the real
WSGI server (werkzeug's threaded one, :func:`assistant.web.make_server`) on 127.0.0.1 with
a signed-in session, each page is timed (median of 15 requests after a warm-up, the two
sizes taken in turns):
``GET /followups`` and a thread page as the rep, ``/team`` as the manager, and one
live-preview keystroke (``POST /admin/templates/<name>/<lang>/preview``) as the admin.
Printed: each page at both sizes and the ratio (target <= 2x, PASS/FAIL). Then a bounded
load run of the queue page at 30,000 threads: a few concurrent clients for a few seconds,
127.0.0.1 only, printing requests/s and p50/p99.

``python -m bench.pages [--small 300] [--large 30000] [--seconds 10] [--clients 4]``
"""

from __future__ import annotations

import argparse
import http.client
import logging
import re
import shutil
import statistics
import sys
import tempfile
import threading
import time
import urllib.parse
from datetime import timedelta
from pathlib import Path

TARGET = 2.0
QUEUED = 20
REP = "ana@aceros.example"
MANAGER = "marta@aceros.example"  # manager and admin in the sample team
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


class Client:
    """One signed-in browser: a cookie jar over http.client (a new connection a request,
    like werkzeug's HTTP/1.0 server wants)."""

    def __init__(self, port: int) -> None:
        self.port, self.cookies = port, {}

    def request(self, method: str, path: str, form: dict | None = None) -> tuple[int, str]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
        headers = {"Accept-Language": "en"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if form is not None:
            body = urllib.parse.urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        text = response.read().decode("utf-8", "replace")
        for header, value in response.getheaders():
            if header.lower() == "set-cookie":
                name, _, rest = value.partition("=")
                self.cookies[name.strip()] = rest.split(";", 1)[0]
        conn.close()
        return response.status, text

    def login(self, email: str, password: str) -> None:
        _, page = self.request("GET", "/login")
        status, _ = self.request("POST", "/login", {"email": email, "password": password,
                                                    "csrf_token": _CSRF.search(page).group(1)})
        if status != 302:
            raise SystemExit(f"sign-in as {email} failed ({status})")

    def csrf(self, path: str) -> str:
        return _CSRF.search(self.request("GET", path)[1]).group(1)


def _queue_followups(settings, engine, now, reports) -> None:
    """The rep's queue: QUEUED drafted follow-ups of their own threads (the bench's
    stand-in for a plan: same count at both sizes)."""
    from sqlalchemy import insert

    from assistant.storage import models

    own = [r for r in reports if r.owner == REP][:QUEUED]
    rows = [dict(key=f"bench:{i}", quote_message_id=r.quote_message_id, step=1, channel="email",
                 assignee=REP, assigned_via="owner", status="drafted",
                 due_at=now - timedelta(hours=i), created_at=now, updated_at=now,
                 contact=r.contact, language="es", template="followup_1", template_version=0,
                 subject=f"Re: {r.subject}", body="Hola,\n\n¿Pudo revisar la cotización?\n")
            for i, r in enumerate(own)]
    with engine.begin() as conn:
        conn.execute(insert(models.Followup), rows)


class Team:
    """One sample team, synced once, served on 127.0.0.1."""

    def __init__(self, root: Path, threads: int) -> None:
        from assistant.demo.pipeline import DEMO_PASSWORD, demo_passwords
        from assistant.demo.sample import generate_sample
        from assistant.services.scan import open_store, scan
        from assistant.services.sync import sync
        from assistant.settings import load_settings
        from assistant.web import make_server

        started = time.perf_counter()
        info = generate_sample(root / str(threads), threads=threads)
        self.settings = load_settings(info.settings_path, environ={})
        self.engine = open_store(self.settings)
        sync(self.settings, self.engine)
        self.now = info.now
        reports = scan(self.settings, self.engine, self.now, mail_keys=False)
        self.messages = info.message_files
        _queue_followups(self.settings, self.engine, self.now, reports)
        demo_passwords(self.settings, self.engine, self.now)
        self.thread = next(r for r in reports if r.owner == REP and r.status == "silent")
        self.setup_seconds = time.perf_counter() - started
        self.server = make_server(self.settings, self.engine, "127.0.0.1", 0,
                                  clock=lambda: info.now)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.rep, self.manager = Client(self.server.port), Client(self.server.port)
        self.rep.login(REP, DEMO_PASSWORD)
        self.manager.login(MANAGER, DEMO_PASSWORD)
        self.preview_token = self.manager.csrf("/admin/templates/followup_1/es")
        self.count = len(reports)

    def pages(self) -> dict[str, tuple[Client, str, str, dict | None]]:
        from assistant.web.services import thread_slug

        text = "Subject: Re: {{ quote.subject }}\n\nHola {{ contact.first_name }},\n¿Pudo revisarla?\n"
        return {
            "GET /followups": (self.rep, "GET", "/followups", None),
            "GET /threads/<id>": (self.rep, "GET", f"/threads/{thread_slug(self.thread.quote_message_id)}", None),
            "GET /team": (self.manager, "GET", "/team", None),
            "POST preview": (self.manager, "POST", "/admin/templates/followup_1/es/preview",
                             {"csrf_token": self.preview_token, "text": text}),
        }

    def close(self) -> None:
        self.server.shutdown()
        self.engine.dispose()


def time_pages(specs: list[tuple[Client, str, str, dict | None]], repeat: int) -> list[float]:
    """The median time of each request, the requests taken in turns (small team, large
    team, small...): a machine shared with other work slows both sizes alike."""
    for client, method, path, form in specs:  # warm-up (and a check)
        status, _ = client.request(method, path, form)
        if status != 200:
            raise SystemExit(f"{method} {path}: {status}")
    times: list[list[float]] = [[] for _ in specs]
    for _ in range(repeat):
        for i, (client, method, path, form) in enumerate(specs):
            started = time.perf_counter()
            client.request(method, path, form)
            times[i].append(time.perf_counter() - started)
    return [statistics.median(t) for t in times]


def time_team_after_a_change(teams: list[Team], repeat: int) -> list[float]:
    """The median time of ``GET /team`` right after a change (the thread's owner set by
    the manager, alternating between two reps): the view computed anew, never cached.
    Taken in turns over the teams, as :func:`time_pages`."""
    from assistant.web.services import thread_slug

    owners = (REP, "luis@aceros.example")
    times: list[list[float]] = [[] for _ in teams]
    for i in range(repeat):
        for k, team in enumerate(teams):
            token = team.manager.csrf("/team")
            path = f"/team/threads/{thread_slug(team.thread.quote_message_id)}/owner"
            status, _ = team.manager.request("POST", path, {"csrf_token": token,
                                                            "owner": owners[i % 2]})
            if status not in (200, 302, 303):
                raise SystemExit(f"POST {path}: {status}")
            started = time.perf_counter()
            team.manager.request("GET", "/team")
            times[k].append(time.perf_counter() - started)
    return [statistics.median(t) for t in times]


def load_run(team: Team, seconds: float, clients: int) -> tuple[float, float, float, int]:
    """``clients`` threads requesting the queue page for ``seconds``: requests/s, p50, p99."""
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    deadline = time.perf_counter() + seconds

    def worker():
        client = Client(team.server.port)
        client.cookies = dict(team.rep.cookies)
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            status, _ = client.request("GET", "/followups")
            took = time.perf_counter() - started
            with lock:
                latencies.append(took)
                errors[0] += status != 200

    started = time.perf_counter()
    workers = [threading.Thread(target=worker) for _ in range(clients)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    elapsed = time.perf_counter() - started
    latencies.sort()
    p = lambda q: latencies[min(len(latencies) - 1, int(q * len(latencies)))]  # noqa: E731
    return len(latencies) / elapsed, p(0.50), p(0.99), errors[0]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", type=int, default=300)
    parser.add_argument("--large", type=int, default=30_000)
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--clients", type=int, default=4)
    args = parser.parse_args(argv)
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no line per request
    root = Path(tempfile.mkdtemp(prefix="bench-pages-"))
    ok = True
    try:
        teams = {}
        for n in (args.small, args.large):
            teams[n] = Team(root, n)
            print(f"{n:>6} threads: {teams[n].count} lead threads, {teams[n].messages} message "
                  f"files, generated + synced in {teams[n].setup_seconds:.1f} s", flush=True)
        results: dict[int, dict[str, float]] = {n: {} for n in teams}
        pages = {n: teams[n].pages() for n in teams}
        for name in pages[args.small]:
            small, large = time_pages([pages[args.small][name], pages[args.large][name]],
                                      args.repeat)
            results[args.small][name], results[args.large][name] = small, large
        print(f"{'page':<20} {args.small:>9} {args.large:>9}   ratio (target <= {TARGET:g}x)")
        for name in results[args.small]:
            small, large = results[args.small][name], results[args.large][name]
            ratio = large / small
            ok &= ratio <= TARGET
            print(f"{name:<20} {small * 1000:>7.1f}ms {large * 1000:>7.1f}ms   {ratio:5.2f}x "
                  f"{'PASS' if ratio <= TARGET else 'FAIL'}", flush=True)
        small, large = time_team_after_a_change([teams[args.small], teams[args.large]], 5)
        print(f"{'GET /team, changed':<20} {small * 1000:>7.1f}ms {large * 1000:>7.1f}ms   "
              f"{large / small:5.2f}x info: the first view after a change (an owner set), "
              "computed anew: its 90-day numbers count every thread quoted in them", flush=True)
        rps, p50, p99, errors = load_run(teams[args.large], args.seconds, args.clients)
        print(f"load: GET /followups at {args.large} threads, {args.clients} clients for "
              f"{args.seconds:g} s on 127.0.0.1: {rps:.1f} requests/s, p50 {p50 * 1000:.1f} ms, "
              f"p99 {p99 * 1000:.1f} ms, {errors} errors")
        ok &= errors == 0
        for team in teams.values():
            team.close()
    finally:
        shutil.rmtree(root, ignore_errors=True)
    print("bench.pages:", "PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
