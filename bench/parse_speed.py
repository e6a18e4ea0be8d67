"""Micro-benchmark: ``parse_message`` vs the standard library's header-only parse.

Prints µs/message for both over the corpus files (if present) and over generated
typical small messages (plain and multipart). Run: ``python -m bench.parse_speed``.
"""

from __future__ import annotations

import os
import sys
import time
from email.parser import BytesParser
from email.policy import compat32
from pathlib import Path

from assistant.mail.parse import parse_message

CORPUS = Path(os.environ.get("FOLLOWUP_CORPUS", "/work/shared/corpus"))


def generated() -> list[bytes]:
    out = []
    for i in range(200):
        hdr = (
            f"Received: from mx{i}.example.net (mx{i}.example.net [10.0.0.{i % 250}])\r\n"
            f"\tby mail.acme.example with ESMTPS id abc{i}\r\n\tfor <ana@acme.example>; Tue, 3 Mar 2026 10:{i % 60:02d}:00 +0100\r\n"
            f"Message-ID: <msg{i}.{i * 7}@mail.client{i}.example>\r\n"
            f"In-Reply-To: <quote{i}@acme.example>\r\n"
            f"References: <quote{i}@acme.example>\r\n"
            f"From: =?utf-8?q?Jos=C3=A9_P=C3=A9rez?= <jose{i}@client{i}.example>\r\n"
            f"To: Ana Ruiz <ana@acme.example>\r\nCc: ventas@acme.example\r\n"
            f"Subject: Re: =?utf-8?q?Cotizaci=C3=B3n?= CT-{i}\r\n"
            f"Date: Tue, 3 Mar 2026 10:{i % 60:02d}:00 +0100\r\nMIME-Version: 1.0\r\n"
        )
        body = "Hola Ana,\r\n\r\nGracias por la cotización, la revisamos y te contamos.\r\n\r\nSaludos,\r\nJosé\r\n\r\n> texto citado\r\n" * 3
        if i % 2:
            msg = hdr + "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n" + body
        else:
            msg = (hdr + 'Content-Type: multipart/mixed; boundary="b1"\r\n\r\n--b1\r\n'
                   'Content-Type: multipart/alternative; boundary="b2"\r\n\r\n--b2\r\n'
                   "Content-Type: text/plain; charset=utf-8\r\n\r\n" + body + "\r\n--b2\r\n"
                   "Content-Type: text/html; charset=utf-8\r\n\r\n<p>" + body + "</p>\r\n--b2--\r\n--b1\r\n"
                   'Content-Type: application/pdf; name="Cotizacion_CT-1.pdf"\r\n'
                   'Content-Disposition: attachment; filename="Cotizacion_CT-1.pdf"\r\n'
                   "Content-Transfer-Encoding: base64\r\n\r\n" + ("JVBERi0xLjQKJcfsj6IKNSAwIG9iago8PC9MZW5ndGggNiAwIFI+PgpzdHJlYW0K\r\n" * 200)
                   + "--b1--\r\n")
        out.append(msg.encode("utf-8"))
    return out


def corpus() -> list[bytes]:
    if not CORPUS.is_dir():
        return []
    return [p.read_bytes() for p in sorted(CORPUS.rglob("*")) if p.is_file() and p.stat().st_size < 200_000]


def timeit(fn, msgs: list[bytes], rounds: int) -> float:
    best = float("inf")
    for _ in range(rounds):
        t = time.perf_counter()
        for m in msgs:
            fn(m)
        best = min(best, time.perf_counter() - t)
    return best / len(msgs) * 1e6


def main() -> None:
    parser = BytesParser(policy=compat32)

    def floor(data: bytes) -> None:
        parser.parsebytes(data, headersonly=True)

    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    for label, msgs in (("generated", generated()), ("corpus", corpus())):
        if not msgs:
            continue
        base = timeit(floor, msgs, rounds)
        ours = timeit(parse_message, msgs, rounds)
        print(f"{label:10s} n={len(msgs):5d}  stdlib header-only {base:7.1f} µs/msg   "
              f"parse_message {ours:7.1f} µs/msg   ratio {ours / base:4.2f}")


if __name__ == "__main__":
    main()
