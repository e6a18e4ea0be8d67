"""Ingest benchmark: ``make bench`` / ``python -m bench.ingest [--messages N] [--keep DIR]``.

Generates a sample team mailbox of at least N message files (default 100,000) with
``assistant.demo.sample``, then measures:

1. the floor: the standard library's header-only parse of the same files, in-process;
2. ``followup sync`` from empty (target: at most 3x the floor's time);
3. a second ``followup sync`` with nothing new (target < 2 s);
4. ``followup scan --json --now <SampleInfo.now>`` (target < 3 s);
5. the peak RSS of each subprocess (target < 500 MB).

Each ``followup`` run is a subprocess reaped with ``os.wait4``, which reports that child's
own peak RSS. Exit status: 0 when every target passes, 1 otherwise, 2 on a setup error.
"""

from __future__ import annotations

import argparse
import email.parser
import email.policy
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from assistant.demo.sample import generate_sample

FILES_PER_THREAD = 4.4  # what the procedural generator averages, counting every copy
SYNC_RATIO_MAX = 3.0
RESYNC_MAX_S = 2.0
SCAN_MAX_S = 3.0
RSS_MAX_MB = 500.0


@dataclass
class Run:
    label: str
    argv: list[str]
    seconds: float
    returncode: int
    peak_rss_mb: float
    stdout: str
    stderr: str


def mail_files(root: Path) -> list[str]:
    out: list[str] = []
    for dirpath, _dirs, files in os.walk(root / "mail"):
        out.extend(os.path.join(dirpath, f) for f in files)
    out.sort()
    return out


def floor(files: list[str]) -> float:
    """Seconds for the stdlib's header-only parse of every file (read included)."""
    parser = email.parser.BytesParser(policy=email.policy.compat32)
    t0 = time.perf_counter()
    for path in files:
        with open(path, "rb") as f:
            data = f.read()
        parser.parsebytes(data, headersonly=True)
    return time.perf_counter() - t0


def followup_bin() -> Path:
    return Path(sys.prefix) / "bin" / "followup"


def run_followup(label: str, settings: Path, *args: str, cwd: Path,
                 extra_env: dict[str, str] | None = None, exe: Path | None = None) -> Run:
    """``exe`` (default: this environment's ``followup``) run as a child, timed, reaped
    with ``os.wait4`` for its peak RSS."""
    argv = [str(exe or followup_bin()), "--config", str(settings), *args]
    env = dict(os.environ)
    env.pop("FOLLOWUP_DATABASE_URL", None)  # the sample's own SQLite file, unless extra_env says
    env.pop("FOLLOWUP_CONFIG", None)
    env.pop("FOLLOWUP_SYNC_WORKERS", None)
    env.update(extra_env or {})
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        t0 = time.perf_counter()
        proc = subprocess.Popen(argv, stdout=out, stderr=err, cwd=cwd, env=env)
        _pid, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        return Run(label, argv, seconds, proc.returncode, usage.ru_maxrss / 1024.0,
                   out.read().decode("utf-8", "replace"), err.read().decode("utf-8", "replace"))


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.ingest", description=__doc__.split("\n")[0])
    ap.add_argument("--messages", type=int, default=100_000,
                    help="at least this many message files (default 100000)")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--keep", type=Path, default=None,
                    help="generate into DIR (must not hold mail yet) and keep it")
    args = ap.parse_args(argv)

    if args.keep:
        work = args.keep.resolve()
        work.mkdir(parents=True, exist_ok=True)
        cleanup = None
    else:
        cleanup = tempfile.mkdtemp(prefix="followup-bench-")
        work = Path(cleanup)
    try:
        return _bench(work, args.messages, args.seed)
    finally:
        if cleanup:
            shutil.rmtree(cleanup, ignore_errors=True)
        else:
            print(f"\nkept: {work}")


def _bench(work: Path, want: int, seed: int) -> int:
    threads = max(1, int(want / FILES_PER_THREAD))
    t0 = time.perf_counter()
    try:
        info = generate_sample(work, threads=threads, seed=seed)
    except FileExistsError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    while info.message_files < want:  # the average is approximate: top up deterministically
        threads = int(threads * want / info.message_files) + 1
        info = generate_sample(work, threads=threads, seed=seed, overwrite=True)
    gen_s = time.perf_counter() - t0
    files = mail_files(work)
    assert len(files) == info.message_files
    n = len(files)
    print(f"generated {n:,} message files ({info.threads:,} threads) in {gen_s:.1f} s "
          f"({n / gen_s:,.0f} files/s) into {work}")

    floor_s = floor(files)
    rows: list[tuple[str, str, str, str, str]] = []
    results: list[bool] = []

    def row(what: str, secs: float | None, rate: str, extra: str, ok: bool | None) -> None:
        rows.append((what, "-" if secs is None else f"{secs:8.2f}", rate, extra,
                     "" if ok is None else verdict(ok)))
        if ok is not None:
            results.append(ok)

    row("floor: stdlib header-only parse", floor_s, f"{n / floor_s:,.0f}/s", "in-process", None)

    exe = followup_bin()
    failure: Run | None = None
    if not exe.exists():
        print(f"\n{exe} not found: only the floor can be measured.", file=sys.stderr)
        results.append(False)
    else:
        sync1 = run_followup("sync", info.settings_path, "sync", cwd=work)
        runs = [sync1]
        if sync1.returncode == 0:
            ratio = sync1.seconds / floor_s
            row("followup sync (from empty)", sync1.seconds, f"{n / sync1.seconds:,.0f}/s",
                f"{ratio:.2f}x floor (<= {SYNC_RATIO_MAX:g}x)", ratio <= SYNC_RATIO_MAX)
            sync2 = run_followup("sync again", info.settings_path, "sync", cwd=work)
            runs.append(sync2)
            if sync2.returncode == 0:
                row("followup sync (nothing new)", sync2.seconds, "", f"< {RESYNC_MAX_S:g} s",
                    sync2.seconds < RESYNC_MAX_S)
                scan = run_followup("scan", info.settings_path, "scan", "--json", "--now",
                                    info.now.isoformat(), cwd=work)
                runs.append(scan)
                if scan.returncode == 0:
                    try:
                        found = f"{len(json.loads(scan.stdout)['threads']):,} threads"
                        ok_json = True
                    except (ValueError, KeyError, TypeError) as e:
                        found, ok_json = f"bad JSON ({e.__class__.__name__})", False
                    row("followup scan --json", scan.seconds, "", f"< {SCAN_MAX_S:g} s; {found}",
                        scan.seconds < SCAN_MAX_S and ok_json)
        if sync1.returncode == 0:
            # For the record: the same sync in one process (no parse workers), into its own
            # database. Informational; the target applies to the default configuration.
            serial = run_followup("sync, one process", info.settings_path, "sync", cwd=work,
                                  extra_env={"FOLLOWUP_SYNC_WORKERS": "0",
                                             "FOLLOWUP_DATABASE_URL": f"sqlite:///{work / 'serial.db'}"})
            runs.append(serial)
            if serial.returncode == 0:
                row("followup sync, one process (info)", serial.seconds,
                    f"{n / serial.seconds:,.0f}/s", f"{serial.seconds / floor_s:.2f}x floor", None)
        for r in runs:
            if r.returncode != 0:
                failure = r
                row(f"followup {r.label}", r.seconds, "", f"exit {r.returncode}", False)
                break
        for r in runs:
            row(f"  peak RSS: {r.label}", None, "", f"{r.peak_rss_mb:,.0f} MB (< {RSS_MAX_MB:g} MB)",
                r.peak_rss_mb < RSS_MAX_MB)

    widths = [max(len(r[i]) for r in rows + [("measure", "seconds", "rate", "notes", "")])
              for i in range(5)]
    header = ("measure", "seconds", "rate", "notes", "")
    print()
    for r in [header] + rows:
        print("  ".join(c.ljust(w) if i != 1 else c.rjust(w)
                        for i, (c, w) in enumerate(zip(r, widths))).rstrip())
    if failure is not None:
        print(f"\n`{' '.join(failure.argv)}` failed with exit {failure.returncode}; stderr:",
              file=sys.stderr)
        print(failure.stderr.rstrip() or "(empty)", file=sys.stderr)
    ok = all(results)
    print(f"\noverall: {verdict(ok)}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
