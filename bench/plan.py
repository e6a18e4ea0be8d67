"""Planning benchmark: ``make bench`` / ``python -m bench.plan [--sizes 1500,3000,30000]
[--before REV]``.

For each size, a sample team of that many threads (``assistant.demo.sample.generate_sample``)
is written, synced (``followup sync``), and ``followup drafts plan --now <SampleInfo.now>``
is timed, each as its own subprocess. Targets (issue 12):

* planning is linear: ``drafts plan`` at 3,000 threads within 2.3x of 1,500 threads;
* 30,000 threads are planned at all (the time is printed).

``--before REV``: also time the same steps with the code of git revision ``REV`` (its tree
exported to a temporary folder and put first on ``PYTHONPATH``), on its own copy of each
sample, and print both (sizes above ``--before-max``, default 3,000, are skipped for it:
the quadratic planner does not finish 30,000 threads in minutes). Exit status: 0 when
every target passes, 1 otherwise.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from assistant.demo.sample import generate_sample

RATIO_MAX = 2.3
ROOT = Path(__file__).resolve().parent.parent


def _followup(args: list[str], *, settings: Path, database: Path, tree: Path | None,
              timeout: float) -> tuple[float, str]:
    env = dict(os.environ, FOLLOWUP_DATABASE_URL=f"sqlite:///{database}")
    if tree is not None:
        env["PYTHONPATH"] = os.pathsep.join([str(tree), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    argv = [sys.executable, "-c", "from assistant.cli import main; main()",
            "--config", str(settings), *args]
    start = time.perf_counter()
    done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=timeout,
                          cwd=tree or ROOT)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed ({done.returncode}): {done.stderr[-2000:]}")
    return seconds, done.stdout.strip().splitlines()[-1] if done.stdout.strip() else ""


def _export(rev: str, dest: Path) -> Path:
    """The tree of git revision ``rev``, written into ``dest``."""
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", rev], check=True,
                             capture_output=True).stdout
    dest.mkdir(parents=True)
    subprocess.run(["tar", "-x", "-C", str(dest)], input=archive, check=True)
    return dest


def measure(size: int, work: Path, tree: Path | None, label: str, timeout: float,
            quiet_days: int | None = 0) -> float:
    """Sync a fresh copy of the sample of ``size`` threads, then time ``drafts plan``."""
    sample = work / f"sample-{size}"
    if not sample.exists():
        info = generate_sample(sample, threads=size)
        (sample / "now.txt").write_text(info.now.isoformat())
    now = (sample / "now.txt").read_text()
    copy = work / f"{label}-{size}"
    shutil.copytree(sample, copy)
    database = copy / "bench.db"
    settings = copy / "settings.toml"
    if quiet_days is not None:  # the sample's threads share clients: with the guard on, all are held
        text = settings.read_text()
        settings.write_text(text.replace("[protocol]\n", f"[protocol]\nquiet_days = {quiet_days}\n", 1))
    sync_s, _ = _followup(["sync"], settings=settings, database=database, tree=tree,
                          timeout=timeout)
    plan_s, said = _followup(["drafts", "plan", "--now", now], settings=settings,
                             database=database, tree=tree, timeout=timeout)
    print(f"  {label:>6} {size:>6} threads: sync {sync_s:6.1f} s, drafts plan {plan_s:7.2f} s"
          f"  ({said})", flush=True)
    shutil.rmtree(copy)
    return plan_s


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1500,3000,30000")
    parser.add_argument("--before", metavar="REV", help="also time git revision REV")
    parser.add_argument("--before-max", type=int, default=3000)
    parser.add_argument("--after", metavar="REV",
                        help="time git revision REV as 'after' (default: this working tree)")
    parser.add_argument("--before-only", action="store_true",
                        help="time only REV (the working tree is being edited)")
    parser.add_argument("--timeout", type=float, default=1800.0, help="seconds per command")
    parser.add_argument("--quiet-days", type=int, default=0,
                        help="[protocol] quiet_days for the run (default 0: the duplicate-contact "
                             "guard off, so follow-ups are drafted and rendered, not all held; "
                             "-1: the sample's own setting)")
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",")]
    status = 0
    with tempfile.TemporaryDirectory(prefix="bench-plan-") as tmp:
        work = Path(tmp)
        trees: list[tuple[str, Path | None]] = []
        if args.before:
            trees.append(("before", _export(args.before, work / "before-tree")))
        if not args.before_only:
            trees.append(("after", _export(args.after, work / "after-tree") if args.after else None))
        print("drafts plan (sample team, synced first; each a subprocess):", flush=True)
        times: dict[str, dict[int, float]] = {}
        for label, tree in trees:
            for size in sizes:
                if label == "before" and size > args.before_max:
                    continue
                try:
                    times.setdefault(label, {})[size] = measure(
                        size, work, tree, label, args.timeout,
                        None if args.quiet_days < 0 else args.quiet_days)
                except (RuntimeError, subprocess.TimeoutExpired) as exc:
                    print(f"  {label:>6} {size:>6} threads: did not finish: {exc}", flush=True)
                    if label == "after":
                        status = 1
        for label, found in times.items():
            if 1500 in found and 3000 in found:
                ratio = found[3000] / found[1500]
                verdict = "PASS" if ratio <= RATIO_MAX else "FAIL"
                if label == "after" and verdict == "FAIL":
                    status = 1
                print(f"{label}: 3,000 / 1,500 threads = {found[3000]:.2f} s / {found[1500]:.2f} s"
                      f" = {ratio:.2f}x (target <= {RATIO_MAX}x): "
                      + (verdict if label == "after" else "(reference)"))
            if 30000 in found:
                print(f"{label}: 30,000 threads planned in {found[30000]:.1f} s")
        if "after" in times and 30000 in sizes and 30000 not in times["after"]:
            print("after: 30,000 threads: FAIL (not planned)")
    return status


if __name__ == "__main__":
    sys.exit(main())
