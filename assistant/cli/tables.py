"""The command line's tables: each cell wraps between words, never inside one.

A column is never narrower than its longest word (an address, a Message-ID prefix, a
URL), so a table that fits the terminal is drawn by ``rich`` with words whole. When the
columns' longest words cannot all fit side by side (a long address on an 80-column
terminal), each row is printed as a short block instead -- ``Header: value`` lines
wrapped at spaces, a word longer than the line left whole on a line of its own.
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence

from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text

__all__ = ["print_table"]

_RIGHT = "right"


def _plain(cell: str) -> str:
    return Text.from_markup(cell).plain


def _longest_word(text: str) -> int:
    return max((len(word) for word in text.split()), default=0)


def print_table(console: Console, title: str | None, headers: Sequence[str],
                rows: Sequence[Sequence[str]], *, justify: dict[int, str] | None = None,
                whole: Sequence[int] = ()) -> None:
    """``rows`` of ``headers`` (cells may carry rich markup) on ``console``: a table when
    every column can be as wide as its longest word (the whole cell for the columns of
    ``whole``: a short phrase read at a glance), else one block per row."""
    justify = justify or {}
    plain = [[_plain(cell) for cell in row] for row in rows]
    minimum = [max([_longest_word(header)] + [len(row[i]) if i in whole else _longest_word(row[i])
                                              for row in plain])
               for i, header in enumerate(headers)]
    # rich's default box: "│ " before each cell, " │" after the last, " │ " between
    room = console.width - (3 * len(headers) + 1)  # rich's box: "│ " + cell + " " per column, "│"
    if sum(minimum) <= room:
        widest = [max([len(header)] + [len(row[i]) for row in plain]) for i, header in enumerate(headers)]
        widths = _widths(minimum, widest, room)
        table = Table(title=title, title_justify="left", show_lines=False)
        for i, header in enumerate(headers):
            table.add_column(header, width=max(widths[i], 1), overflow="fold",
                             justify=justify.get(i, "left"))
        for row in rows:
            table.add_row(*row)
        console.print(table)
        return
    if title:
        console.print(Text(title, style="italic"))
    width = max(console.width - 1, 20)
    for cells in plain:
        for line in _block(headers, cells, width):
            console.print(escape(line), soft_wrap=True, highlight=False)
        console.print()


def _widths(minimum: list[int], widest: list[int], room: int) -> list[int]:
    """Each column's width: its minimum (longest word), then the room left shared out a
    column at a time to those that would still wrap, narrowest need first."""
    widths = list(minimum)
    spare = room - sum(widths)
    while spare > 0:
        wanting = [i for i, w in enumerate(widths) if w < widest[i]]
        if not wanting:
            break
        share = max(spare // len(wanting), 1)
        for i in sorted(wanting, key=lambda i: widest[i] - widths[i]):
            grant = min(share, widest[i] - widths[i], spare)
            widths[i] += grant
            spare -= grant
            if spare == 0:
                break
    return widths


def _block(headers: Sequence[str], cells: Sequence[str], width: int) -> list[str]:
    """One row as lines of ``Header: value`` fragments joined by `` · ``, as many on a
    line as fit; a fragment longer than a line wraps at spaces (indented). A cell of two
    lines (a person's name over their address) reads ``Name (address)``: never an address
    left to run into the next field."""
    lines: list[str] = []
    current = ""
    for header, cell in zip(headers, cells):
        if not cell.strip():
            continue
        parts = [p.strip() for p in cell.split("\n") if p.strip()]
        if len(parts) == 2:  # a person: the name, the address below it in a table
            cell = f"{parts[0]} ({parts[1]})"
        else:
            cell = " ".join(parts)
        fragment = f"{header}: {cell}"
        joined = f"{current} · {fragment}" if current else fragment
        if len(joined) <= width:
            current = joined
            continue
        if current:
            lines.append(current)
        if len(fragment) <= width:
            current = fragment
            continue
        wrapped = textwrap.wrap(fragment, width=width, subsequent_indent="    ",
                                break_long_words=False, break_on_hyphens=False)
        lines.extend(wrapped[:-1])
        current = wrapped[-1]
    if current:
        lines.append(current)
    return lines
