"""Benchmark: the WhatsApp export parser on the largest chats an export holds (Android
stops at 40,000 messages without media), Android and iPhone shapes, a quarter of the
messages on two lines. Target: under 2 s of CPU per 40,000-message chat (a sync
re-reads a changed export whole; CPU time, since helpers share the machine). Run: ``python -m bench.whatsapp``."""

from __future__ import annotations

import sys
import time
from datetime import datetime, timedelta

from connectors.whatsapp_parse import parse_chat

MESSAGES = 40_000
TARGET_SECONDS = 2.0


def chat(ios: bool) -> str:
    start = datetime(2025, 1, 1, 8, 0)
    lines = []
    for i in range(MESSAGES):
        at = start + timedelta(minutes=7 * i)
        who = "Ana Pérez" if i % 3 else "Roberto Salinas"
        text = f"mensaje {i} sobre la cotización COT-{i % 97}"
        if i % 4 == 0:
            text += "\nsegunda línea"
        hour = at.hour % 12 or 12
        ampm = "p.\u202fm." if at.hour >= 12 else "a.\u202fm."
        if ios:
            lines.append(f"[{at:%d/%m/%y}, {at:%H:%M:%S}] {who}: {text}")
        else:
            lines.append(f"{at:%d/%m/%y}, {hour}:{at:%M}\u202f{ampm} - {who}: {text}")
    return "\n".join(lines) + "\n"


def main() -> int:
    failed = False
    for ios in (False, True):
        text = chat(ios)
        began, cpu = time.perf_counter(), time.process_time()
        parsed = parse_chat(text)
        wall, seconds = time.perf_counter() - began, time.process_time() - cpu
        assert len(parsed.messages) == MESSAGES
        shape = "iPhone" if ios else "Android"
        ok = seconds <= TARGET_SECONDS
        failed |= not ok
        print(f"whatsapp parse, {shape}: {MESSAGES} messages ({len(text) / 2**20:.1f} MiB) in "
              f"{seconds:.2f} s CPU ({seconds / MESSAGES * 1e6:.1f} µs/message; {wall:.2f} s wall)"
              f" {'ok' if ok else f'MISSED the {TARGET_SECONDS} s target'}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
