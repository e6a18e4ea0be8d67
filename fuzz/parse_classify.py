"""Fuzzing target for ``parse_message`` + ``classify``: ``make fuzz`` (``FUZZ_SECONDS=60``).

    python -m fuzz.parse_classify [--seconds N] [--corpus DIR]

Hypothesis drives three properties, in batches, until the time is up:

* ``check_message``: any bytes (generated messages, seed messages mutated, raw noise)
  parse and classify without raising, within ``HANG_SECONDS`` each, and keep the
  invariants of :func:`invariants` (addresses are lower-cased addr-specs with exactly
  one ``@``; no CR, LF or NUL in any stored value; Message-IDs in ``<...>`` without
  whitespace or control characters; bounded lists; the same answer for CRLF, for a
  second parse and for a re-read of the rendered address headers).
* ``check_spoof``: a From whose display name (or comment) holds an address in any
  encoding is read as the real ``<...>`` address or as nobody, never as the name's.
* ``check_opaque_encoded_words``: swapping every encoded word of an address header for
  another one changes no address (addresses never come from decoded text).

Seeds: the licensed real-world messages of ``tests/fixtures/corpus/``, those of
``fuzz/seeds/`` (``SOURCES.txt`` there), and ``/work/shared/corpus`` (or ``--corpus``,
``$FOLLOWUP_CORPUS``) when present. A failure prints the shrunk input, writes its bytes
to a file (the path is printed) and exits 1: paste it into a byte-literal regression
test in ``tests/test_mail_parse.py``.

Why Hypothesis rather than atheris: it is pure Python (a wheel on every platform and
Python we support, no libFuzzer or clang), runs in the same pytest process as the test
suite (``tests/test_fuzz_parse.py`` runs these properties on every ``make test``), and its
strategies build grammar-aware header values (encoded words, quoted strings, comments,
groups, routes, look-alikes) that blind byte mutation rarely assembles; failures shrink
to a minimal message. The seeds make up for the missing coverage guidance.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import re
import signal
import sys
import tempfile
import time
import unicodedata
from contextlib import contextmanager
from pathlib import Path

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

import assistant.mail.parse as parse_module
from assistant.mail.classify import classify
from assistant.mail.message import KINDS
from assistant.mail.parse import parse_message

ROOT = Path(__file__).resolve().parent.parent
SEED_DIRS = [ROOT / "tests" / "fixtures" / "corpus", ROOT / "fuzz" / "seeds"]
HANG_SECONDS = 10.0

ADDR_RE = re.compile(r'(?:[^\s@"\\\x00-\x1f\x7f]+|"[^"\\@\x00-\x1f\x7f]+")@[^\s@"\\\x00-\x1f\x7f]+')
MSGID_RE = re.compile(r"<[^<>\s\x00-\x1f\x7f]+>")
STORED_CTL_RE = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")  # CR, LF, NUL and friends (TAB allowed)
ENCODED_WORD_RE = re.compile(r"=\?[A-Za-z0-9_\-*]+\?[bBqQ]\?[A-Za-z0-9=_.+/\-]*\?=")


class Hang(Exception):
    """An example ran longer than HANG_SECONDS."""


@contextmanager
def time_limit(seconds: float):
    """Raise :class:`Hang` inside the block after ``seconds`` (main thread, POSIX)."""
    if not hasattr(signal, "setitimer"):
        yield
        return

    def alarm(signum, frame):
        raise Hang(f"no answer after {seconds:.0f} s")

    previous = signal.signal(signal.SIGALRM, alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


# --------------------------------------------------------------------------- seeds

def load_seeds(extra: Path | None = None, limit: int = 400) -> list[bytes]:
    dirs = list(SEED_DIRS)
    corpus = extra or Path(os.environ.get("FOLLOWUP_CORPUS", "/work/shared/corpus"))
    if corpus.is_dir():
        dirs.append(corpus)
    out: list[bytes] = []
    for folder in dirs:
        for path in sorted(folder.rglob("*")):
            if not path.is_file() or path.stat().st_size > 64 * 1024:
                continue
            if path.name.startswith(("UPSTREAM", "SOURCES", "README")) or path.suffix in (".tsv", ".md", ".list"):
                continue
            out.append(path.read_bytes())
    # a stable spread when there are many
    if len(out) > limit:
        step = len(out) / limit
        out = [out[int(i * step)] for i in range(limit)]
    return out


# --------------------------------------------------------------------------- strategies

ADDRESS_HEADERS = ["From", "To", "Cc", "Bcc", "Reply-To", "Sender", "Resent-From"]
OTHER_HEADERS = ["Subject", "Message-ID", "In-Reply-To", "References", "Date", "Content-Type",
                 "Content-Disposition", "Content-Transfer-Encoding", "Auto-Submitted", "Precedence",
                 "List-Id", "X-Failed-Recipients", "Return-Path", "MIME-Version"]
FRAGMENTS = [
    "=?utf-8?q?", "=?UTF-8?B?", "=?iso-8859-1?q?", "=?x-unknown?q?", "?=", "?= =?utf-8?q?",
    "=40", "=3C", "=3E", "=22", "=2C", "=3A", "=3B", "=28", "=29", "=00", "=0D=0A", "=5C", "_",
    "Y2xpZW50QHRoZWlyLmV4YW1wbGU=", "PGNsaWVudEB0aGVpci5leGFtcGxlPg==",
    '"', "\\", "(", ")", "<", ">", "@", ",", ";", ":", ".", "[", "]", " ", "\t", "\r\n ", "\n\t",
    "\x00", "\r", "\x7f", "\x1b", "\uff20", "\ufe6b", "\u0435", "\u202e", "\u200b", "\u00a0", "\ufeff",
    "é", "ñ", "\U0001f600", "client", "their.example", "client@their.example", "attacker@evil.example",
    "<attacker@evil.example>", "Ana Pérez", "undisclosed-recipients:;", "@relay.example:", "[127.0.0.1]",
    "postmaster", "MAILER-DAEMON", "<>", "multipart/mixed; boundary=b", "--b", "--b--", "text/plain",
    "message/delivery-status", "Action: failed", "Status: 5.1.1", "filename=", "name*0*=utf-8''",
]

fragment = st.sampled_from(FRAGMENTS)
short_text = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=6)
header_value = st.lists(st.one_of(fragment, fragment, short_text), max_size=24).map("".join)


def _encode(text: str, latin: bool) -> bytes:
    if latin:
        return text.encode("latin-1", "replace")
    return text.encode("utf-8", "surrogatepass")


@st.composite
def header_line(draw) -> bytes:
    name = draw(st.one_of(st.sampled_from(ADDRESS_HEADERS), st.sampled_from(ADDRESS_HEADERS),
                          st.sampled_from(OTHER_HEADERS), short_text.filter(lambda s: ":" not in s)))
    return _encode(name, False) + b":" + _encode(draw(header_value), draw(st.booleans()))


@st.composite
def generated_message(draw) -> bytes:
    lines = draw(st.lists(header_line(), max_size=12))
    eol = draw(st.sampled_from([b"\n", b"\r\n", b"\r"]))
    body = _encode(draw(header_value), draw(st.booleans()))
    return eol.join(lines) + eol + eol + body + eol


@st.composite
def mutated_seed(draw, seeds: list[bytes]) -> bytes:
    data = draw(st.sampled_from(seeds))
    for _ in range(draw(st.integers(0, 3))):
        how = draw(st.sampled_from(["prepend", "insert", "replace", "cut", "splice"]))
        pos = draw(st.integers(0, len(data)))
        if how == "prepend":
            data = draw(header_line()) + b"\n" + data
        elif how == "insert":
            data = data[:pos] + _encode(draw(header_value), draw(st.booleans())) + data[pos:]
        elif how == "replace":
            end = draw(st.integers(pos, min(len(data), pos + 64)))
            data = data[:pos] + _encode(draw(header_value), False) + data[end:]
        elif how == "cut":
            data = data[:pos]
        else:
            other = draw(st.sampled_from(seeds))
            data = data[:pos] + other[draw(st.integers(0, len(other))):]
    return data


def messages(seeds: list[bytes]):
    return st.one_of(generated_message(), mutated_seed(seeds), mutated_seed(seeds), st.binary(max_size=600))


# --------------------------------------------------------------------------- invariants

def _valid_addr(addr: str) -> bool:
    return (ADDR_RE.fullmatch(addr) is not None and addr.count("@") == 1 and addr == addr.lower()
            and len(addr) <= 254)


def invariants(m, data: bytes) -> None:
    """What every ParsedMessage must keep, whatever the bytes."""
    assert MSGID_RE.fullmatch(m.message_id), m.message_id
    for ref in (m.in_reply_to, m.original_message_id, *m.references):
        assert ref is None or MSGID_RE.fullmatch(ref), ref
    if m.from_addr is not None:
        assert _valid_addr(m.from_addr), m.from_addr
    for group in (m.to, m.cc, m.bcc):
        assert len(group) <= 1000
        for addr in group:
            assert _valid_addr(addr), addr
    if m.from_name is not None:
        assert m.from_name and len(m.from_name) <= 256, m.from_name
        assert m.from_name == m.from_name.strip()
        assert not any(unicodedata.category(c)[0] in "C" for c in m.from_name), repr(m.from_name)
    stored = [m.subject, *m.attachment_names, *m.warnings, *m.headers.values(), *m.original_headers.values()]
    for value in stored:
        assert STORED_CTL_RE.search(value) is None, repr(value)
    for name in m.headers:
        assert name and name == name.lower() and ":" not in name, repr(name)
        assert STORED_CTL_RE.search(name) is None and not any(c.isspace() for c in name), repr(name)
    for value in m.headers.values():
        assert len(value) <= 2000
    assert m.from_addr is None or m.from_name is None or m.from_name


def check_one(data: bytes) -> None:
    with time_limit(HANG_SECONDS):
        m = parse_message(data)
        invariants(m, data)
        kind = classify(m)
        assert kind.kind in KINDS, kind
        for addr in kind.bounced_recipients:
            assert isinstance(addr, str)
        # memoized paths give the same answer as cold ones
        parse_module._address_pairs.cache_clear()
        parse_module._decode_encoded_words.cache_clear()
        assert parse_message(data) == m
        if b"\r" not in data:
            assert parse_message(data.replace(b"\n", b"\r\n")) == m
        # the rendered address headers read back to the same addresses
        for key, got in (("to", m.to), ("cc", m.cc), ("from", (m.from_addr,) if m.from_addr else ())):
            shown = m.headers.get(key)
            if not shown or not got or len(shown) >= 1900 or len(got) >= 1000:
                continue
            if _count_headers(data, key) != 1:
                continue
            again = parse_message(b"Message-ID: <x@y>\n" + key.encode() + b": " + shown.encode("utf-8") + b"\n\n")
            back = {"to": again.to, "cc": again.cc, "from": (again.from_addr,) if again.from_addr else ()}[key]
            assert back == got, (key, shown, back, got)


def _count_headers(data: bytes, key: str) -> int:
    head = data.replace(b"\r\n", b"\n").replace(b"\r", b"\n").split(b"\n\n", 1)[0]
    return len(re.findall(rb"(?im)^" + re.escape(key.encode()) + rb"[ \t]*:", head))


NAME_FORMS = [
    lambda a: a,
    lambda a: f'"{a}"',
    lambda a: "=?utf-8?q?" + "".join(c if c.isalnum() else f"={ord(c):02X}" for c in a) + "?=",
    lambda a: '"=?utf-8?q?' + "".join(c if c.isalnum() else f"={ord(c):02X}" for c in a) + '?="',
    lambda a: "=?UTF-8?B?" + __import__("base64").b64encode(a.encode()).decode() + "?=",
    lambda a: a.replace("@", "\uff20"),
    lambda a: f"<{a}>",
    lambda a: f"=?utf-8?q?=3C{a.replace('@', '=40')}=3E?=",
]
local_part = st.text(alphabet="abcdefghij0123456789.-_+", min_size=1, max_size=10).filter(
    lambda s: not s.startswith(".") and not s.endswith(".") and ".." not in s)
domain = st.lists(st.text(alphabet="abcdefghij0123456789-", min_size=1, max_size=8), min_size=2, max_size=3).map(".".join)
address = st.builds(lambda l, d: f"{l}@{d}", local_part, domain)


@st.composite
def spoofed_from(draw) -> tuple[bytes, str, str]:
    victim, real = draw(address), draw(address)
    name = draw(st.sampled_from(NAME_FORMS))(victim)
    extra = draw(st.sampled_from(["", " ", "\t", "\r\n "]))
    shape = draw(st.sampled_from(["{n} <{r}>", "{n}<{r}>", "{r} ({n})", "{n} {r}", "{n}, {r}",
                                  "{r}, {n}", "{n}:{r};", "{n}\r\n\t<{r}>", "<{r}> {n}"]))
    value = shape.format(n=name, r=real) + extra
    return value.encode("utf-8"), victim, real


def check_spoof(value: bytes, victim: str, real: str) -> None:
    with time_limit(HANG_SECONDS):
        m = parse_message(b"Message-ID: <s@x.example>\nFrom: " + value + b"\nSubject: Re: x\n\nno nos interesa\n")
    invariants(m, value)
    if victim.lower() != real.lower():
        assert m.from_addr in (real.lower(), None), (value, m.from_addr)
        assert classify(m).kind in KINDS


def check_opaque_encoded_words(value: str) -> None:
    raw = value.encode("utf-8", "surrogatepass")
    swapped = ENCODED_WORD_RE.sub("=?utf-8?q?Z?=", value).encode("utf-8", "surrogatepass")
    heads = b"Message-ID: <o@x.example>\nFrom: %s\nTo: %s\nCc: %s\n\nx\n"
    a = parse_message(heads % (raw, raw, raw))
    b = parse_message(heads % (swapped, swapped, swapped))
    if "=?" not in (a.from_addr or "") and not any("=?" in x for x in a.to):
        assert (a.from_addr, a.to, a.cc) == (b.from_addr, b.to, b.cc), (value, a.to, b.to)


# --------------------------------------------------------------------------- runner

def properties(seeds: list[bytes]):
    """The three properties as undecorated callables with their strategies."""
    return [
        ("message", messages(seeds), check_one),
        ("spoof", spoofed_from(), lambda t: check_spoof(*t)),
        ("opaque-encoded-words", header_value, check_opaque_encoded_words),
    ]


def run_property(strategy, check, *, examples: int, derandomize: bool = False, database=None,
                 record: list | None = None) -> None:
    def recorded(x):
        try:
            check(x)
        except BaseException:
            if record is not None:
                record.append(x)
            raise

    test = settings(max_examples=examples, deadline=None, derandomize=derandomize, database=database,
                    suppress_health_check=list(HealthCheck), print_blob=True,
                    phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.shrink])(given(strategy)(recorded))
    test()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m fuzz.parse_classify", description=__doc__.split("\n")[0])
    ap.add_argument("--seconds", type=float, default=float(os.environ.get("FUZZ_SECONDS", 60)))
    ap.add_argument("--batch", type=int, default=300, help="examples per property per batch")
    ap.add_argument("--corpus", type=Path, default=None)
    args = ap.parse_args(argv)
    import warnings

    from hypothesis.database import DirectoryBasedExampleDatabase

    warnings.simplefilter("ignore")  # Hypothesis's notes on large reprs of seed messages
    seeds = load_seeds(args.corpus)
    db = DirectoryBasedExampleDatabase(os.environ.get(
        "FUZZ_DB", os.path.join(tempfile.gettempdir(), "followup-fuzz-examples")))
    print(f"fuzz: parse_message + classify, {len(seeds)} seeds, {args.seconds:.0f} s")
    end = time.monotonic() + args.seconds
    counts = {name: 0 for name, _, _ in properties(seeds)}
    while time.monotonic() < end:
        for name, strategy, check in properties(seeds):
            failed: list = []
            try:
                run_property(strategy, check, examples=args.batch, database=db, record=failed)
            except BaseException as exc:  # noqa: BLE001 - report any failure, then stop
                if isinstance(exc, KeyboardInterrupt):
                    raise
                example = failed[-1] if failed else None
                print(f"\nFAIL {name}: {type(exc).__name__}: {str(exc)[:2000]}")
                if example is not None:
                    data = example if isinstance(example, bytes) else repr(example).encode("utf-8", "replace")
                    out = Path(tempfile.gettempdir()) / f"followup-fuzz-{hashlib.sha256(data).hexdigest()[:12]}.eml"
                    out.write_bytes(data)
                    print(f"shrunk input ({len(data)} bytes) written to {out}:\n{data[:3000]!r}")
                return 1
            counts[name] += args.batch
            if time.monotonic() >= end:
                break
    total = sum(counts.values())
    print("fuzz: ok, " + ", ".join(f"{n} {c:,}" for n, c in counts.items()) + f" examples ({total:,})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
