"""The fuzzing target's properties (``fuzz/parse_classify.py``) on every test run: a
short, derandomized Hypothesis search per property, so CI keeps checking the invariants
that ``make fuzz`` searches for at length (parse + classify never raise or hang,
addresses are one lower-cased addr-spec, no CR/LF/NUL in stored values, spoofed names
never become the sender, encoded words never change an address)."""

from __future__ import annotations

import pytest

pytest.importorskip("hypothesis")

from fuzz.parse_classify import check_one, load_seeds, properties, run_property  # noqa: E402

SEEDS = load_seeds(limit=120)


@pytest.mark.parametrize("name", [name for name, _, _ in properties(SEEDS)])
def test_fuzz_property_holds(name: str) -> None:
    strategy, check = next((s, c) for n, s, c in properties(SEEDS) if n == name)
    run_property(strategy, check, examples=150, derandomize=True)


def test_every_seed_keeps_the_invariants() -> None:
    for data in SEEDS:
        check_one(data)
