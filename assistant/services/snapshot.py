"""The read model: every lead thread's report, computed once and stored (issue 12).

Sync queues what it stores (``index_queue``, in the transaction that stores it); users'
marks and logged touches queue the messages of their thread. :func:`refresh` indexes the
queue: it links each queued message to the conversations it cites or is cited by
(``message_refs``: whichever arrives first), finds the *neighbourhood* of what changed —
every conversation that can affect the same threads under DESIGN.md rules 4 and 5, i.e.
connected through a join key one offers and the other asks (:func:`assistant.domain.joining.conversation_keys`)
— and recomputes exactly those threads with the pure domain functions, storing each
report without its time-dependent part (``threads``). :func:`rebuild` does the same for
everything at once; both give the same answer (a test compares them).

Readers (:func:`reports`) get the reports at any ``now``: ``silent`` or ``waiting`` (and
the ``nobody`` scenario) are decided from the stored due date, so no page, plan or digest
ever rescans mail. Reports are recomputed when the rules change (their fingerprint is
stored): a different ``settings.toml`` [detection] or team means a rebuild on first read.
"""

from __future__ import annotations

import hashlib
import logging
from collections import defaultdict
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from typing import Callable, Iterable
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, Engine, delete, func, insert, select, text, update

from assistant.domain.analysis import (Facts, analyze_thread, build_threads, contact_of, first_quote,
                                       first_quote_index)
from assistant.domain.joining import conversation_keys
from assistant.domain.metrics import thread_events
from assistant.domain.model import LoggedTouch, Mail, Rules, ThreadMark, ThreadReport
from assistant.domain.threading import group_conversations
from assistant.services.workers import can_fork, fewer_collections, forked_map, spans, worker_count
from assistant.storage import models, repo
from assistant.storage.models import as_utc

log = logging.getLogger(__name__)

__all__ = ["refresh", "rebuild", "reports", "ensure_current", "fingerprint",
           "RefreshResult", "READ_MODEL_VERSION"]

READ_MODEL_VERSION = "2"
"""Bumped when what the stored reports mean changes (a rule's code, not its settings):
the reports of an older version are rebuilt on first read."""

NEVER = datetime(1, 1, 2, tzinfo=timezone.utc)
"""The ``now`` reports are computed at before they are stored: nothing is due yet, so a
thread with a next step reads ``waiting`` (stored as ``open``) and no scenario is
``nobody`` — both decided at read time (:func:`repo.report_from_row`)."""

REBUILD_SHARE = 0.25
"""A queue holding more than this share of the store (or more than REBUILD_MIN messages)
is indexed by a rebuild: one pass over everything beats many neighbourhoods."""
REBUILD_MIN = 5000


@dataclass(frozen=True)
class RefreshResult:
    indexed: int
    """Queued messages indexed."""
    threads: int
    """Lead threads recomputed (stored or removed)."""
    rebuilt: bool = False
    changed: frozenset[str] | None = None
    """The lead threads recomputed (stored or removed), by quote Message-ID; ``None``
    after a rebuild (every thread may have changed)."""


def fingerprint(rules: Rules) -> str:
    """What the stored reports depend on: the read model's version and every rule."""
    parts = [READ_MODEL_VERSION, sorted(rules.domains), sorted(rules.members.items()),
             [(s.after_days, s.channel, s.template) for s in rules.steps], rules.timezone,
             rules.holidays_country, rules.send_window_start.isoformat(),
             rules.quote_keywords, rules.quote_phrases, rules.decline_phrases,
             rules.request_phrases, rules.exclude_phrases, rules.holding_phrases,
             sorted(rules.public_domains), rules.holding_days, rules.buyer_phrases,
             rules.promise_phrases, rules.non_quote_phrases]
    return hashlib.sha256(repr(parts).encode("utf-8")).hexdigest()


# --- Locking and state ---------------------------------------------------------------------

def _lock(conn: Connection) -> None:
    """One indexer at a time: PostgreSQL's transaction-scoped advisory lock; on SQLite a
    first write takes the database's write lock for the whole transaction."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(774411)"))
    else:
        _set_state(conn, "lock", "held")


def _state(conn: Connection, key: str) -> str | None:
    return conn.scalar(select(models.ReadModelState.value).where(models.ReadModelState.key == key))


def _set_state(conn: Connection, key: str, value: str) -> None:
    done = conn.execute(update(models.ReadModelState).where(models.ReadModelState.key == key)
                        .values(value=value)).rowcount
    if not done:
        conn.execute(insert(models.ReadModelState).values(key=key, value=value))


# --- Entry points ------------------------------------------------------------------------------

def ensure_current(engine: Engine, rules: Rules, *,
                   starting: Callable[[], None] | None = None) -> RefreshResult | None:
    """Bring the read model up to date before reading it: a rebuild when the rules
    changed, else the queue indexed. ``None`` when nothing had to be done (the common
    case: a couple of cheap queries). ``starting()`` is called first when there is work
    (a command shows it is indexing)."""
    with engine.connect() as conn:
        current = _state(conn, "rules") == fingerprint(rules)
        queued = conn.scalar(select(models.IndexQueue.message_pk).limit(1)) is not None
    if current and not queued:
        return None
    if starting is not None:
        starting()
    if not current:
        return rebuild(engine, rules)
    return refresh(engine, rules)


def refresh(engine: Engine, rules: Rules) -> RefreshResult:
    """Index the queue (see the module doc)."""
    with engine.begin() as conn:
        _lock(conn)
        if _state(conn, "rules") != fingerprint(rules):
            return _rebuild(conn, engine, rules)
        queued = list(conn.scalars(select(models.IndexQueue.message_pk)))
        if not queued:
            return RefreshResult(0, 0, changed=frozenset())
        total = conn.scalar(select(func.count()).select_from(models.Message)) or 0
        if len(queued) > max(REBUILD_MIN, REBUILD_SHARE * total):
            return _rebuild(conn, engine, rules)
        changed = _refresh(conn, rules, queued)
        _set_state(conn, "generation", str(int(_state(conn, "generation") or 0) + 1))
        for part in repo.chunks(queued):
            conn.execute(delete(models.IndexQueue).where(models.IndexQueue.message_pk.in_(part)))
        return RefreshResult(len(queued), len(changed), changed=frozenset(changed))


def rebuild(engine: Engine, rules: Rules, *, workers: int | None = None) -> RefreshResult:
    """Recompute every thread from all stored mail (``followup rebuild``). ``workers``:
    how many forked processes compute the reports (``None``: one per CPU for a mailbox of
    at least :data:`PARALLEL_MIN_CONVERSATIONS` conversations, when this process may fork;
    0: here)."""
    with engine.begin() as conn:
        _lock(conn)
        return _rebuild(conn, engine, rules, workers=workers)


def reports(engine: Engine, rules: Rules, now: datetime, *, where=None,
            fresh: bool = True, mail_keys: bool = False) -> list[ThreadReport]:
    """The stored reports at ``now``, oldest quote first (``where``: a filter on
    ``models.ThreadRow``). ``fresh``: index the queue first. ``mail_keys``: fill each
    report's ``mail_keys`` (its messages' ids) for readers that walk its messages."""
    if fresh:
        ensure_current(engine, rules)
    zone = ZoneInfo(rules.timezone)
    with engine.connect() as conn:
        found = repo.reports_from_rows(conn, repo.read_threads(conn, where=where), now, zone)
        if mail_keys and found:
            members = repo.thread_members(conn, None if where is None
                                          else [r.quote_message_id for r in found])
            found = [replace(r, mail_keys=tuple(members.get(r.quote_message_id, ())))
                     for r in found]
    return found


def thread_mails(engine: Engine, quote_message_ids: Iterable[str]) -> dict[str, list[Mail]]:
    """The messages of each thread, in timeline order."""
    with engine.connect() as conn:
        by_thread: dict[str, list[Mail]] = defaultdict(list)
        keys = list(dict.fromkeys(quote_message_ids))
        members = repo.thread_members(conn, keys)
        pks = {pk: key for key, items in members.items() for pk in items}
        for mail in repo.mails_where(conn, models.Message.id, list(pks)):
            by_thread[pks[mail.key]].append(mail)
    for mails in by_thread.values():
        mails.sort(key=lambda m: (m.date, m.message_id))
    return dict(by_thread)


# --- Computing threads -------------------------------------------------------------------------

@dataclass
class _Computed:
    rows: list[tuple[str, object]]
    """``(quote Message-ID, the thread's row as repo.insert_thread_values takes it)``."""
    thread_of: dict[int, str | None]
    """Message pk -> its lead thread's key (``None`` outside lead threads)."""
    keys: dict[int, set[str]]
    """Conversation id -> its join keys."""


def base_report(thread: list[Mail], rules: Rules, *, mark: ThreadMark | None,
                touches: Iterable[LoggedTouch], facts: Facts) -> ThreadReport | None:
    """A thread's report without its time-dependent part (see :data:`NEVER`)."""
    return analyze_thread(thread, rules, NEVER, mark=mark, touches=touches, facts=facts)


PARALLEL_MIN_CONVERSATIONS = 2000
"""Below this many conversations, computing in one process beats forking workers."""


def _compute(mails: list[Mail], rules: Rules, marks: dict[str, ThreadMark],
             touches: list[LoggedTouch], conversation_of: dict[int, int], *,
             dialect: str, conversations: list[list[Mail]] | None = None,
             workers: int | None = 0,
             meanwhile: Callable[[], None] | None = None) -> _Computed:
    """Every lead thread's row and each conversation's join keys. The threads are built
    here (rules 4 and 5 join across the whole mailbox); their reports, and the
    conversations' keys, are computed in ``workers`` forked processes when there are
    many (:func:`assistant.services.workers.forked_map`; ``None``: as :func:`rebuild`
    says): the same rows, in the same order, as in one process. ``meanwhile``: this
    process's own work while they compute (a rebuild writes what does not depend on the
    reports)."""
    facts = Facts(rules)
    touches_by: dict[str, list[LoggedTouch]] = defaultdict(list)
    for touch in touches:
        touches_by[touch.thread].append(touch)
    if workers is None:
        large = len(conversations or ()) >= PARALLEL_MIN_CONVERSATIONS
        workers = worker_count() if large and can_fork() else 0
        if large and not workers and worker_count():
            log.info("computing %d conversations in this process: another thread is running, "
                     "so no worker may be forked", len(conversations or ()))
    if workers and conversations:
        log.info("computing %d conversations in %d worker processes", len(conversations), workers)
    if workers and conversations:
        # Rules 4 and 5 ask each conversation's first quote: found in the workers first.
        quote_parts = spans([len(c) for c in conversations], workers)
        found = forked_map(_first_quotes, (conversations, rules, facts), quote_parts,
                           workers=workers)
        for (start, stop), indexes in zip(quote_parts, found):
            for conversation, index in zip(conversations[start:stop], indexes):
                facts.learn_first_quote(conversation, index)
    threads = build_threads(mails, rules, marks=marks, touches=touches_by, facts=facts,
                            conversations=conversations)
    by_conversation: dict[int, list[Mail]] = defaultdict(list)
    for mail in mails:
        by_conversation[conversation_of[mail.key]].append(mail)
    grouped = list(by_conversation.items())
    for _cid, conversation in grouped:
        conversation.sort(key=lambda m: (m.date, m.message_id))
    count = max(1, workers)
    parts = ([("threads", span) for span in spans([len(t) for t in threads], count)]
             + [("keys", span) for span in spans([len(c) for _, c in grouped], count)])
    state = _Work(threads, grouped, rules, marks, touches_by, facts, dialect)
    rows: list[tuple[str, object]] = []
    thread_of: dict[int, str | None] = {m.key: None for m in mails}
    keys: dict[int, set[str]] = {}
    done = forked_map(_compute_part, state, parts, workers=workers, meanwhile=meanwhile)
    for (what, (start, _stop)), found in zip(parts, done):
        if what == "threads":
            for index, quote_id, value in found:
                rows.append((quote_id, value))
                for mail in threads[start + index]:
                    thread_of[mail.key] = quote_id
        else:
            keys.update(found)
    return _Computed(rows, thread_of, keys)


def _first_quotes(state, span: tuple[int, int]) -> list[int | None]:
    """Where each conversation of ``span`` has its first quote (a worker's part)."""
    conversations, rules, facts = state
    return [first_quote_index(c, rules, facts) for c in conversations[span[0]:span[1]]]


@dataclass
class _Work:
    """What :func:`_compute_part` reads (in a forked worker: inherited, not copied)."""
    threads: list[list[Mail]]
    conversations: list[tuple[int, list[Mail]]]
    rules: Rules
    marks: dict[str, ThreadMark]
    touches: dict[str, list[LoggedTouch]]
    facts: Facts
    dialect: str


def _compute_part(work: _Work, part: tuple[str, tuple[int, int]]):
    """``("threads", span)``: ``[(index in the span, quote Message-ID, thread row as
    stored)]`` of the lead threads among ``work.threads[span]``; ``("keys", span)``: ``{conversation id: its join keys}``
    of ``work.conversations[span]``."""
    what, (start, stop) = part
    rules, facts = work.rules, work.facts
    if what == "keys":
        keys: dict[int, set[str]] = {}
        for cid, conversation in work.conversations[start:stop]:
            quote = first_quote(conversation, rules, facts)
            keys[cid] = stored_keys(*conversation_keys(
                conversation, rules, quote=quote,
                contact=contact_of(quote, rules) if quote else None, inbound=facts.inbound))
        return keys
    out: list[tuple[int, str, object]] = []
    for index, thread in enumerate(work.threads[start:stop]):
        quote = first_quote(thread, rules, facts)
        if quote is None:
            continue
        touches = work.touches.get(quote.message_id, ())
        report = base_report(thread, rules, mark=work.marks.get(quote.message_id),
                             touches=touches, facts=facts)
        if report is None:
            continue
        events = thread_events(report, {m.key: m for m in thread}, touches, facts)
        out.append((index, report.quote_message_id, repo.thread_row(report, events)))
    # Stored values (SQLite's text, not datetimes) travel back from a worker faster.
    stored = repo.thread_values([row for _, _, row in out], work.dialect)
    return [(index, quote_id, value) for (index, quote_id, _), value in zip(out, stored)]


def _nodes(mail: Mail) -> tuple[set[str], set[str]]:
    """The ids a message cites and its provider conversation ids (``t:``-prefixed)."""
    cited = {r for r in (mail.in_reply_to, mail.original_message_id, *mail.references) if r}
    cited.discard(mail.message_id)
    return cited, {f"t:{hint}" for hint in mail.thread_hints}


def _refs_rows(mails: Iterable[Mail]) -> list[dict]:
    rows = []
    for mail in mails:
        cited, hints = _nodes(mail)
        rows.extend({"ref_id": ref, "message_pk": mail.key} for ref in cited | hints)
    return rows


def _insert_refs(conn: Connection, rows: list[dict]) -> None:
    repo.execute_many(conn, "INSERT INTO message_refs (ref_id, message_pk) VALUES (?, ?) "
                            "ON CONFLICT DO NOTHING",
                      [(row["ref_id"], row["message_pk"]) for row in rows])


def _write(conn: Connection, computed: _Computed, old_threads: set[str],
           conversation_of: dict[int, int], *, emptied: bool = False) -> set[str]:
    """Store what was computed; the threads it changed. ``emptied``: a rebuild, which
    emptied the read model's tables first (nothing to delete row by row)."""
    if not emptied:
        repo.delete_threads(conn, old_threads | {quote_id for quote_id, _ in computed.rows})
    repo.insert_thread_values(conn, [value for _, value in computed.rows])
    repo.execute_many(conn, "UPDATE messages SET conversation_id = ?, thread_key = ? WHERE id = ?",
                      [(conversation_of[pk], key, pk) for pk, key in computed.thread_of.items()])
    if not emptied:
        for part in repo.chunks(list(computed.keys)):
            conn.execute(delete(models.JoinKey).where(models.JoinKey.conversation_id.in_(part)))
    repo.execute_many(conn, "INSERT INTO join_keys (key, conversation_id) VALUES (?, ?)",
                      [(key, cid) for cid, keys in computed.keys.items()
                       for key in keys])
    return old_threads | {quote_id for quote_id, _ in computed.rows}


@fewer_collections()
def _rebuild(conn: Connection, engine: Engine, rules: Rules, *,
             workers: int | None = None) -> RefreshResult:
    mails = repo.load_mails(conn, engine)
    conversations = group_conversations(mails)
    conversation_of = {}
    for conversation in conversations:
        cid = min(m.key for m in conversation)
        for mail in conversation:
            conversation_of[mail.key] = cid

    def empty_and_link() -> None:  # what does not wait for the reports
        conn.execute(delete(models.ThreadRow))
        conn.execute(delete(models.JoinKey))
        conn.execute(delete(models.MessageRef))
        _insert_refs(conn, _refs_rows(mails))

    computed = _compute(mails, rules, repo.load_marks(conn), repo.load_touches(conn),
                        conversation_of, dialect=engine.dialect.name, conversations=conversations,
                        workers=workers, meanwhile=empty_and_link)
    threads = len(_write(conn, computed, set(), conversation_of, emptied=True))
    queued = conn.execute(delete(models.IndexQueue)).rowcount
    _set_state(conn, "rules", fingerprint(rules))
    _set_state(conn, "built_at", datetime.now(timezone.utc).isoformat())
    return RefreshResult(max(queued, 0), threads, rebuilt=True)


def _refresh(conn: Connection, rules: Rules, queued: list[int]) -> set[str]:
    m = models.Message
    new = repo.mails_where(conn, m.id, queued)
    _insert_refs(conn, _refs_rows(new))
    # 1. Link the queued messages to the conversations they share an id with.
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        root = x
        while parent.get(root, root) != root:
            root = parent[root]
        while parent.get(x, x) != root:
            parent[x], x = root, parent[x]
        return root

    def union(a: str, b: str) -> None:
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[max(ra, rb, key=_rank)] = min(ra, rb, key=_rank)

    conversation_now = dict(conn.execute(select(m.id, m.conversation_id).where(
        m.id.in_([mail.key for mail in new]))).all()) if len(new) <= 500 else {}
    if len(new) > 500:
        for part in repo.chunks([mail.key for mail in new]):
            conversation_now.update(conn.execute(select(m.id, m.conversation_id)
                                                 .where(m.id.in_(part))).all())
    linked_pks: set[int] = set()
    for mail in new:
        me = f"p:{mail.key}"
        parent.setdefault(me, me)
        if conversation_now.get(mail.key) is not None:
            union(me, f"c:{conversation_now[mail.key]}")
        cited, hints = _nodes(mail)
        for ref in cited | hints | {mail.message_id}:
            union(me, f"n:{ref}")
    nodes = [key[2:] for key in list(parent) if key.startswith("n:")]
    ids = [n for n in nodes if not n.startswith("t:")]
    for part in repo.chunks(ids):  # messages whose own id a queued message cites
        for pk, cid, mid in conn.execute(select(m.id, m.conversation_id, m.message_id)
                                         .where(m.message_id.in_(part))):
            union(f"n:{mid}", f"c:{cid}" if cid is not None else f"p:{pk}")
            linked_pks.add(pk)
    for part in repo.chunks(nodes):  # messages citing the same ids, or a queued one's id
        for pk, ref, cid in conn.execute(
                select(models.MessageRef.message_pk, models.MessageRef.ref_id, m.conversation_id)
                .join(m, m.id == models.MessageRef.message_pk)
                .where(models.MessageRef.ref_id.in_(part))):
            union(f"n:{ref}", f"c:{cid}" if cid is not None else f"p:{pk}")
            linked_pks.add(pk)
    # 2. Each group's conversation id: the smallest message id in it (the old
    # conversations' ids already are theirs).
    groups: dict[str, set[str]] = defaultdict(set)
    for item in set(parent) | set(parent.values()):  # roots are values, not keys
        if not item.startswith("n:"):
            groups[find(item)].add(item)
    touched: set[int] = set()
    seed_keys: set[str] = set()
    for members in groups.values():
        ids_ = [int(x[2:]) for x in members]
        target = min(ids_)
        old = [int(x[2:]) for x in members if x.startswith("c:") and int(x[2:]) != target]
        pks = [int(x[2:]) for x in members if x.startswith("p:")]
        seed_keys |= _keys_of(conn, old)  # their neighbours are the merged one's now
        for part in repo.chunks(old):
            conn.execute(update(m).where(m.conversation_id.in_(part)).values(conversation_id=target))
            conn.execute(delete(models.JoinKey).where(models.JoinKey.conversation_id.in_(part)))
        for part in repo.chunks(pks):
            conn.execute(update(m).where(m.id.in_(part)).values(conversation_id=target))
        touched.add(target)
    # 3. The neighbourhood: conversations asking what they offer, offering what they ask, or sharing a thread.
    component: set[int] = set()
    frontier = set(touched)
    mails_of: dict[int, list[Mail]] = {}
    facts = Facts(rules)
    while frontier:
        component |= frontier
        loaded = repo.mails_where(conn, m.conversation_id, frontier)
        by_cid: dict[int, list[Mail]] = defaultdict(list)
        cid_of = dict(_conversation_ids(conn, [mail.key for mail in loaded]))
        for mail in loaded:
            by_cid[cid_of[mail.key]].append(mail)
        mails_of.update(by_cid)
        thread_keys = set(_thread_keys(conn, [mail.key for mail in loaded]))
        keys: set[str] = set()
        for cid in frontier:
            conversation = sorted(by_cid.get(cid, []), key=lambda x: (x.date, x.message_id))
            quote = first_quote(conversation, rules, facts)
            keys |= stored_keys(*conversation_keys(
                conversation, rules, quote=quote,
                contact=contact_of(quote, rules) if quote else None, inbound=facts.inbound))
        old_keys = _keys_of(conn, frontier) | seed_keys
        seed_keys = set()
        found: set[int] = set()
        # What they offer is met by what others ask, and the other way round (with the keys
        # they had before this change too: what they could join then).
        wanted = {_counterpart(key) for key in keys | old_keys}
        for part in repo.chunks(list(wanted)):
            found.update(conn.scalars(select(models.JoinKey.conversation_id)
                                      .where(models.JoinKey.key.in_(part))))
        for part in repo.chunks(list(thread_keys)):
            found.update(c for c in conn.scalars(select(m.conversation_id).where(
                m.thread_key.in_(part))) if c is not None)
        frontier = found - component
    # 4. Recompute the neighbourhood's threads and store them.
    mails = [mail for cid in component for mail in mails_of.get(cid, [])]
    conversation_of = dict(_conversation_ids(conn, [mail.key for mail in mails]))
    old_threads = set(_thread_keys(conn, [mail.key for mail in mails]))
    candidates = {mail.message_id for mail in mails} | old_threads
    computed = _compute(mails, rules, repo.load_marks(conn, candidates),
                        repo.load_touches(conn, candidates), conversation_of,
                        dialect=conn.dialect.name)
    return _write(conn, computed, old_threads, conversation_of)


def stored_keys(offers: Iterable[str], asks: Iterable[str]) -> set[str]:
    """A conversation's ``join_keys`` rows: each key's digest (:func:`repo.key_digest`)
    tagged with its side, ``o`` (offered) or ``a`` (asked), in 40 characters."""
    return ({"o" + repo.key_digest(key)[:39] for key in offers}
            | {"a" + repo.key_digest(key)[:39] for key in asks})


def _counterpart(stored: str) -> str:
    """The stored key that meets ``stored``: the same key on the other side."""
    return ("a" if stored[0] == "o" else "o") + stored[1:]


def _rank(node: str) -> tuple:
    """Union-find roots: conversations first (smallest id), then messages, then ids."""
    kind = {"c": 0, "p": 1, "n": 2}[node[0]]
    return (kind, int(node[2:]) if kind < 2 else 0, node)


def _conversation_ids(conn: Connection, pks: list[int]):
    for part in repo.chunks(pks):
        yield from conn.execute(select(models.Message.id, models.Message.conversation_id)
                                .where(models.Message.id.in_(part))).all()


def _thread_keys(conn: Connection, pks: list[int]):
    for part in repo.chunks(pks):
        yield from (k for k in conn.scalars(select(models.Message.thread_key).where(
            models.Message.id.in_(part), models.Message.thread_key.is_not(None))))


def _keys_of(conn: Connection, cids: Iterable[int]) -> set[str]:
    out: set[str] = set()
    for part in repo.chunks(list(cids)):
        out.update(conn.scalars(select(models.JoinKey.key)
                                .where(models.JoinKey.conversation_id.in_(part))))
    return out
