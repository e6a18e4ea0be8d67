"""The held-back WhatsApp exports (tests/fixtures/whatsapp/heldout/, written from shapes the
development fixtures do not use and never read while the parser was developed) parse
without loss: the messages, their first lines and each sender's count are the ones
counted by hand in MANIFEST.toml, and every line of each file belongs to exactly one
message (or to the lines before the first one). Also read from a zip, as an export with
media comes."""

from __future__ import annotations

import io
import tomllib
import zipfile
from collections import Counter
from pathlib import Path

import pytest

from connectors.whatsapp import read_export
from connectors.whatsapp_parse import decode_export, parse_chat

HELDOUT = Path(__file__).parent / "fixtures" / "whatsapp" / "heldout"
MANIFEST = tomllib.loads((HELDOUT / "MANIFEST.toml").read_text(encoding="utf-8"))


@pytest.mark.parametrize("name", sorted(MANIFEST))
def test_heldout_export_parses_without_loss(name):
    want = MANIFEST[name]
    data = (HELDOUT / name).read_bytes()
    chat = parse_chat(decode_export(data), date_order=want["date_order"])
    assert chat.line_total == want["lines"]
    assert [m.first_line for m in chat.messages] == want["first_lines"]
    covered = sorted([*chat.preamble, *(n for m in chat.messages
                                       for n in range(m.first_line, m.first_line + m.line_count))])
    assert covered == list(range(1, want["lines"] + 1))
    assert dict(Counter(m.sender for m in chat.messages if m.sender is not None)) == want["senders"]
    assert all(m.at.year in (2026, 2027) for m in chat.messages)

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        z.writestr("IMG-20270104-WA0001.jpg", b"\xff\xd8\xff")
        z.writestr(name, data)
    _, zipped = read_export(buffer.getvalue(), "export.zip", date_order=want["date_order"])
    assert zipped == chat
