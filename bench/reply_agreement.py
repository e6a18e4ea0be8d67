"""Agreement of ``own_text`` (DESIGN.md "Real mail", rule 8) with real replies whose own
text is known, per source.

    python -m bench.reply_agreement [CORPUS] [--baseline REV] [-v]

CORPUS defaults to ``/work/shared/corpus``; the project's own fixtures come from
``tests/fixtures/replies``. For every file, three answers:

* **exact** -- the own text equals the expected one (white space normalised);
* **no leak** -- no line of the own text is outside the expected own text: no quoted
  original, header, signature or disclaimer got in (what would make a quoted "no nos
  interesa" close a thread);
* **nothing lost** -- every line of the expected own text is there (what would hide a
  client's real decline or promise).

Lines are compared with white space collapsed; lines without a letter or digit (rules,
decorations) are not counted. ``--baseline REV`` runs ``assistant/mail/text.py`` as it is
in git revision REV as well and prints before -> after; ``-v`` lists the disagreements.
The speed of ``own_text`` on a typical reply (a Spanish Outlook answer above the quoted
quote: tests/fixtures/replies/es_outlook_desktop_header_block.txt) and over the whole set
is printed last: uncached (``own_text`` keeps an LRU cache, as a scan asks the same
message more than once), the best of five runs.

Expected own texts:

* talon (mailgun/talon, Apache-2.0): each standard reply's own text is "Hello" (talon's
  ``*_reply_text`` files keep "Sent from my iPhone" and Sparrow's ``-- `` signature, which
  rule 8 drops); the HTML replies, reduced to text as the parser does, are "Hi. I am fine.
  Thanks, Alex" (talon's html tests), the ``<hr>`` one "Hi there Bob", Outlook's
  OLK_SRC_BODY_SECTION "Reply", reply-quotations-share-block its first paragraph.
* email-reply-trimmer (discourse, MIT): ``trimmed/X`` read by rule 8 -- ``>``-quoted lines
  are not own text (the trimmer keeps inline quotes), and the few files in
  ``TRIMMER_RULE8`` where rule 8 reads otherwise (each with its reason).
* github-email_reply_parser, crisp-email-reply-parser (MIT): no expected files upstream;
  ``GITHUB`` and ``CRISP`` give the own lines of each file, read by hand following the
  upstream tests' assertions (github's ``email_reply_parser_test.rb``, crisp's
  ``test/test.js``: "fragments[0] is COMMON_FIRST_FRAGMENT", visible text, …).
* mail-parser-reply (alfonsrv, MIT; copies in tests/fixtures/corpus/mail-parser-reply):
  held out -- not read while the shapes were written; ``HELD_OUT_OWN`` as above.
* own (this project, tests/fixtures/replies): ``NAME.txt`` or ``NAME.eml`` with the
  expected own text in ``NAME.own``; shapes from public files named in that folder's
  SOURCES.txt (Spanish and Portuguese clients, Lotus Notes, disclaimers, banners).
"""

from __future__ import annotations

import re
import subprocess
import sys
import time
import types
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

from assistant.mail.parse import html_to_text, parse_message
from assistant.mail.text import own_text

ROOT = Path(__file__).resolve().parent.parent
OWN_FIXTURES = ROOT / "tests" / "fixtures" / "replies"
HELD_OUT = ROOT / "tests" / "fixtures" / "corpus" / "mail-parser-reply"
TYPICAL = OWN_FIXTURES / "es_outlook_desktop_header_block.txt"

# Own lines (1-based, inclusive ranges) of each file; "*" = the whole file.
GITHUB = {
    "correct_sig.txt": "1", "email_1_1.txt": "1-7", "email_1_2.txt": "1,9-34",
    "email_1_3.txt": "1-5", "email_1_4.txt": "1", "email_1_5.txt": "*",
    "email_1_6.txt": "1",  # "Sent from a magnificent torch of pixels": a "Sent from" sign-off
    "email_1_7.txt": "1", "email_1_8.txt": "13,19", "email_2_1.txt": "1", "email_2_2.txt": "1",
    "email_2_3.txt": "1", "email_BlackBerry.txt": "1", "email_bullets.txt": "1-9",
    "email_iPhone.txt": "1", "email_long_quote.txt": "1-4,6,8-10",
    "email_multi_word_sent_from_my_mobile_device.txt": "1", "email_one_is_not_on.txt": "1-5",
    "email_sent_from_my_not_signature.txt": "*", "email_sig_delimiter_in_middle_of_line.txt": "*",
    "greedy_on.txt": "1-6", "pathological.txt": "1-2",
}
_FUSCE = "1-5"  # crisp's COMMON_FIRST_FRAGMENT
CRISP = {
    "correct_sig.txt": "1", "email_1.txt": "1-7", "email_10.txt": _FUSCE, "email_11.txt": _FUSCE,
    "email_12.txt": _FUSCE, "email_13.txt": _FUSCE, "email_14.txt": _FUSCE, "email_15.txt": _FUSCE,
    "email_16.txt": _FUSCE, "email_17.txt": _FUSCE, "email_18.txt": _FUSCE,
    "email_19.txt": "1",  # "Sent from a magnificent torch of pixels", as github's email_1_6
    "email_2.txt": "1,9-34", "email_20.txt": "1", "email_21.txt": "*", "email_22.txt": _FUSCE,
    "email_23.txt": _FUSCE, "email_24.txt": _FUSCE, "email_25.txt": _FUSCE, "email_26.txt": _FUSCE,
    "email_2_1.txt": "1", "email_3.txt": "1-5", "email_4.txt": "1", "email_5.txt": "*",
    "email_6.txt": "1-3", "email_7.txt": _FUSCE, "email_8.txt": _FUSCE, "email_9.txt": _FUSCE,
    "email_blackberry.txt": "1", "email_bullets.txt": "1-9", "email_custom_quote_header.txt": "1",
    "email_customer_quote_header_2.txt": "1", "email_customer_quote_header_3.txt": "1-3",
    "email_danish_dash_separator.txt": _FUSCE, "email_emoji.txt": "*",
    "email_en_multiline_2.txt": _FUSCE, "email_finnish.txt": _FUSCE, "email_fr_multiline.txt": _FUSCE,
    "email_french_2.txt": _FUSCE, "email_french_dash_separator.txt": _FUSCE, "email_german.txt": _FUSCE,
    "email_german_2.txt": _FUSCE, "email_german_3.txt": _FUSCE, "email_german_outlook.txt": _FUSCE,
    "email_gmail_split_line_from.txt": _FUSCE, "email_ios_outlook.txt": _FUSCE,
    "email_ios_outlook_fr.txt": _FUSCE, "email_iphone.txt": "1", "email_italian.txt": _FUSCE,
    "email_msn.txt": _FUSCE, "email_multi_word_sent_from_my_mobile_device.txt": "1",
    "email_norwegian_gmail.txt": _FUSCE, "email_not_a_signature.txt": "*",
    "email_not_a_signature_2.txt": "*", "email_one_is_not_on.txt": "1-5",
    "email_original_message.txt": _FUSCE, "email_original_message_2.txt": _FUSCE,
    "email_outlook_split_line_from.txt": _FUSCE, "email_portuguese.txt": _FUSCE,
    "email_reply_header.txt": "1-11", "email_russian.txt": _FUSCE, "email_sent_from.txt": "1",
    "email_sent_from_my_not_signature.txt": "*", "email_thread.txt": "1",
    "email_tricky_10_special_chars_in_name.txt": _FUSCE, "email_tricky_11_double_signature.txt": "1-4",
    "email_tricky_12_no_space_after_header.txt": _FUSCE, "email_tricky_13_timestamp_variations.txt": "*",
    "email_tricky_14_long_quote_header.txt": _FUSCE,
    "email_tricky_15_original_message_variations.txt": _FUSCE,
    "email_tricky_16_unicode_signatures.txt": "*",  # an em-dash rule is not rule 8's "--"
    "email_tricky_17_forward_header.txt": "1", "email_tricky_18_inline_reply.txt": "4,8,12",
    "email_tricky_19_quote_without_header.txt": "1,7,12", "email_tricky_1_on_false_positive.txt": "*",
    "email_tricky_20_html_entities.txt": "1-3", "email_tricky_2_url_with_wrote.txt": "*",
    "email_tricky_3_code_block.txt": "*", "email_tricky_4_from_in_body.txt": "*",
    "email_tricky_5_mixed_languages.txt": _FUSCE, "email_tricky_6_regards_in_sentence.txt": "*",
    "email_tricky_7_multiple_dashes.txt": "*", "email_tricky_8_sent_from_in_content.txt": "*",
    "email_tricky_9_nested_quotes.txt": "1", "email_unquoted_reply.txt": "1",
    "email_with_date_headers.txt": "*", "email_with_from_headers.txt": "*",
    "email_with_regards.txt": "*", "email_zoho.txt": "1-2", "sig_no_empty_line.txt": "1",
}
# alfonsrv/mail-parser-reply (MIT), copied into tests/fixtures/corpus: held out -- not read
# while the shapes were written. Unmarked signatures ("Med venlig hilsen …") are own text
# by rule 8, where that parser files them as signatures.
HELD_OUT_OWN = {
    "email_es_wrap.txt": "1-7", "email_en_wrap.txt": "1-6", "email_gmail.txt": "1",
    "email_danish_1.txt": "1-6", "email_swedish_1.txt": "1-8",
    "multiline_on.txt": "",  # header after header: nothing of the sender's
}
TRIMMER_RULE8 = {
    # the trimmer keeps a forwarded message's content as the post; it is not what the
    # forwarding sender wrote
    "forwarded_message.txt": "",
    # these start with an attribution ("On 15 May 2017 … wrote:", "On 8 May 2017 …
    # wrote:") followed by unquoted text: by rule 8 all of it is the quoted original (the
    # trimmer keeps it)
    "embedded_email_17.txt": "",
    "embedded_email_18.txt": "",
}
TALON_HTML = "Hi. I am fine.\n\nThanks,\n\nAlex"


@dataclass
class Case:
    source: str
    name: str
    text: str
    expected: str


def _lines_of(text: str, spec: str) -> str:
    lines = text.replace("\r\n", "\n").split("\n")
    if spec == "*":
        return text
    keep: list[str] = []
    for part in spec.split(","):
        if not part:
            continue
        a, _, b = part.partition("-")
        keep.extend(lines[int(a) - 1:int(b or a)])
    return "\n".join(keep)


def _read(path: Path) -> str:
    return path.read_bytes().decode("utf-8", "replace")


def _message_text(path: Path) -> str:
    if path.suffix == ".eml":
        return parse_message(path.read_bytes()).text
    if path.suffix == ".html":
        return html_to_text(_read(path))
    return _read(path)


def talon(corpus: Path) -> Iterator[Case]:
    base = corpus / "talon-fixtures" / "files"
    for path in sorted((base / "standard_replies").glob("*.eml")):
        yield Case("talon", path.name, _message_text(path), "Hello")
    for path in sorted((base / "html_replies").glob("*.html")):
        yield Case("talon", "html/" + path.name, _message_text(path), TALON_HTML)
    for name, expected in (("reply-separated-by-hr.html", "Hi\n\nthere\n\nBob"),
                           ("OLK_SRC_BODY_SECTION.html", "Reply")):
        if (base / name).is_file():
            yield Case("talon", name, _message_text(base / name), expected)
    share = base / "reply-quotations-share-block.eml"
    if share.is_file():
        text = _message_text(share)
        yield Case("talon", share.name, text, _lines_of(text, "1-3"))


_QUOTED_LINE = re.compile(r"[ \t]*>")


def trimmer(corpus: Path) -> Iterator[Case]:
    base = corpus / "email-reply-trimmer" / "files"
    for path in sorted((base / "emails").glob("*.txt")):
        trimmed = base / "trimmed" / path.name
        if path.name in TRIMMER_RULE8:
            expected = TRIMMER_RULE8[path.name]
        elif trimmed.is_file():
            expected = "\n".join(ln for ln in _read(trimmed).split("\n") if not _QUOTED_LINE.match(ln))
        else:
            continue
        yield Case("email-reply-trimmer", path.name, _read(path), expected)


def _ranges(source: str, folder: Path, table: dict[str, str]) -> Iterator[Case]:
    for name, spec in sorted(table.items()):
        path = folder / name
        if path.is_file():
            text = _read(path)
            yield Case(source, name, text, _lines_of(text, spec))


def github(corpus: Path) -> Iterator[Case]:
    yield from _ranges("github reply parser", corpus / "github-email_reply_parser" / "files" / "emails", GITHUB)


def crisp(corpus: Path) -> Iterator[Case]:
    yield from _ranges("crisp", corpus / "crisp-email-reply-parser" / "files" / "fixtures", CRISP)


def held_out(_corpus: Path) -> Iterator[Case]:
    yield from _ranges("mail-parser-reply (held out)", HELD_OUT, HELD_OUT_OWN)


def own(_corpus: Path) -> Iterator[Case]:
    for path in sorted(OWN_FIXTURES.glob("*")):
        if path.suffix not in (".txt", ".eml") or path.name == "SOURCES.txt":
            continue
        expected = path.with_suffix(".own")
        if expected.is_file():
            yield Case("own fixtures (es/en/pt/Lotus)", path.name, _message_text(path), _read(expected))


SOURCES = (talon, trimmer, github, crisp, held_out, own)

_WS = re.compile(r"\s+")
_WORD = re.compile(r"\w")


def _norm(text: str) -> str:
    return _WS.sub(" ", text).strip()


def _line_set(text: str) -> set[str]:
    return {n for ln in text.split("\n") if _WORD.search(n := _norm(ln))}


@dataclass
class Verdict:
    exact: bool
    leaked: list[str]
    lost: list[str]


def judge(got: str, expected: str) -> Verdict:
    g, e = _line_set(got), _line_set(expected)
    return Verdict(_norm(got) == _norm(expected), sorted(g - e), sorted(e - g))


def load_baseline(rev: str) -> Callable[[str], str]:
    """``own_text`` (or the older ``reply_text``) of ``assistant/mail/text.py`` at ``rev``."""
    source = subprocess.run(["git", "-C", str(ROOT), "show", f"{rev}:assistant/mail/text.py"],
                            check=True, capture_output=True, text=True).stdout
    module = types.ModuleType(f"text_at_{rev}")
    exec(compile(source, f"{rev}:assistant/mail/text.py", "exec"), module.__dict__)
    fn = getattr(module, "own_text", None) or module.reply_text
    return getattr(fn, "__wrapped__", fn)


def _pct(k: int, n: int) -> str:
    return f"{k}/{n} ({100 * k / n:.0f}%)" if n else "-"


def _speed(fn: Callable[[str], str], texts: list[str], repeat: int) -> float:
    """Microseconds per call, the best of five runs (a busy machine only slows runs down)."""
    best = float("inf")
    for _ in range(5):
        start = time.perf_counter()
        for _ in range(repeat):
            for text in texts:
                fn(text)
        best = min(best, time.perf_counter() - start)
    return best * 1e6 / (repeat * len(texts))


def main(argv: list[str]) -> int:
    verbose = "-v" in argv
    args = [a for a in argv if a != "-v"]
    baseline_rev = None
    if "--baseline" in args:
        k = args.index("--baseline")
        baseline_rev = args[k + 1]
        del args[k:k + 2]
    corpus = Path(args[0]) if args else Path("/work/shared/corpus")
    cases = [case for source in SOURCES for case in source(corpus)]
    current = getattr(own_text, "__wrapped__", own_text)
    impls: list[tuple[str, Callable[[str], str]]] = []
    if baseline_rev:
        impls.append((baseline_rev, load_baseline(baseline_rev)))
    impls.append(("now", current))

    results: dict[str, list[tuple[Case, Verdict, str]]] = {}
    for label, fn in impls:
        results[label] = [(case, judge(got := fn(case.text), case.expected), got) for case in cases]

    names = list(dict.fromkeys(case.source for case in cases))
    arrow = " -> " if baseline_rev else ""
    print(f"own_text agreement{f' ({baseline_rev} -> now)' if baseline_rev else ''}")
    print(f"{'source':32} {'files':>5}  {'exact':>22}  {'no leak':>22}  {'nothing lost':>22}")
    for name in names + ["all"]:
        row = []
        for label, _ in impls:
            rs = [r for r in results[label] if name == "all" or r[0].source == name]
            row.append((len(rs), sum(v.exact for _, v, _ in rs), sum(not v.leaked for _, v, _ in rs),
                        sum(not v.lost for _, v, _ in rs)))
        n = row[-1][0]
        cols = [arrow.join(_pct(r[c], r[0]).split(" ")[0] for r in row) + f" ({100 * row[-1][c] / n:.0f}%)"
                for c in (1, 2, 3)]
        print(f"{name:32} {n:>5}  {cols[0]:>22}  {cols[1]:>22}  {cols[2]:>22}")

    if verbose:
        for case, verdict, got in results["now"]:
            if verdict.exact and not verdict.leaked and not verdict.lost:
                continue
            print(f"\n--- {case.source}: {case.name}{'' if verdict.exact else ' (not exact)'}")
            for ln in verdict.leaked:
                print(f"  leaked: {ln[:100]}")
            for ln in verdict.lost:
                print(f"  lost:   {ln[:100]}")

    typical = [_message_text(TYPICAL)] if TYPICAL.is_file() else [cases[0].text]
    texts = [case.text for case in cases if len(case.text) <= 40_000]
    print(f"\nspeed of own_text, uncached ({len(typical[0])}-character typical reply; "
          f"all {len(texts)} files under 40 kB):")
    for label, fn in impls:
        print(f"  {label:>8}: {_speed(fn, typical, 400):8.1f} µs typical   "
              f"{_speed(fn, texts, 4):8.1f} µs mean per file")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
