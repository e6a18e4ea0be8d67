"""Who sees which threads: the open statuses and a manager's scope, one definition for
the digest and the web pages (pure: plain values in, plain values out).

* **Open**: a thread the team still has to act on or wait for (:data:`OPEN_STATUSES`);
  ``bounced``, ``closed`` and ``exhausted`` are not open (the metrics' definition).
* **Scope**: the members whose threads someone sees. A member's *team* is themselves and
  everyone reporting to them, transitively (a VP's team holds their managers' reports).
  A manager with no manager of their own sees the whole company (scope ``None``).
* **In scope**: a thread owned by a member of the scope, or without an owner and with a
  candidate owner in it (a thread nobody owns shows to the managers of its candidates).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

__all__ = ["OPEN_STATUSES", "is_open", "team_of", "scope_of", "viewer_scope", "in_scope"]

OPEN_STATUSES = ("awaiting_us", "silent", "waiting")


def is_open(status: str) -> bool:
    return status in OPEN_STATUSES


def team_of(email: str, managers: Mapping[str, str | None]) -> frozenset[str]:
    """``email`` and everyone reporting to them, transitively. ``managers``: each
    member's address -> their manager's address (or ``None``)."""
    reports: dict[str, list[str]] = {}
    for member, manager in managers.items():
        if manager:
            reports.setdefault(manager, []).append(member)
    team, todo = {email}, [email]
    while todo:
        for report in reports.get(todo.pop(), ()):
            if report not in team:
                team.add(report)
                todo.append(report)
    return frozenset(team)


def scope_of(email: str, managers: Mapping[str, str | None], *,
             manages: bool) -> frozenset[str] | None:
    """The members whose threads ``email`` sees; ``None`` for the whole company: a member
    who ``manages`` (a manager, or someone's manager) and has no manager of their own."""
    if manages and not managers.get(email):
        return None
    return team_of(email, managers)


def viewer_scope(email: str, managers: Mapping[str, str | None], *, manager_role: bool,
                 admin: bool) -> tuple[frozenset[str] | None, tuple[str, ...]]:
    """A member's scope on the pages (an admin's: everyone) and the members in it,
    themselves first then in roster order (``managers``' order)."""
    manages = manager_role or any(boss == email for boss in managers.values())
    scope = None if admin else scope_of(email, managers, manages=manages)
    team = (email, *(m for m in managers if m != email and (scope is None or m in scope)))
    return scope, team


def in_scope(owner: str | None, candidates: Iterable[str],
             scope: frozenset[str] | None) -> bool:
    """Whether a thread (its owner, or its candidate owners when it has none) is in
    ``scope`` (``None``: everything is)."""
    if scope is None:
        return True
    if owner is not None:
        return owner in scope
    return any(candidate in scope for candidate in candidates)
