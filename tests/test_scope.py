"""One definition of open statuses and of a manager's scope (assistant/domain/scope.py),
shared by the digest and the web: a VP sees the same threads on both."""

from __future__ import annotations

import dataclasses

from assistant.domain import metrics
from assistant.domain.scope import OPEN_STATUSES, in_scope, scope_of, team_of, viewer_scope
from assistant.services import digest as D
from assistant.services.scan import scan
from assistant.web import users
from assistant.web.services import thread_slug
from tests.webapp import MANAGER, OTHER_REP, REP, SDR, app_for, csrf, web, web_template  # noqa: F401

CHAIN = {"vp@x.example": None, "boss@x.example": "vp@x.example",
         "rep@x.example": "boss@x.example", "solo@x.example": None}


def test_a_team_is_walked_transitively():
    assert team_of("vp@x.example", CHAIN) == {"vp@x.example", "boss@x.example", "rep@x.example"}
    assert team_of("rep@x.example", CHAIN) == {"rep@x.example"}
    assert scope_of("vp@x.example", CHAIN, manages=True) is None  # nobody above: the company
    assert scope_of("boss@x.example", CHAIN, manages=True) == {"boss@x.example", "rep@x.example"}
    assert viewer_scope("solo@x.example", CHAIN, manager_role=False, admin=False) == (
        frozenset({"solo@x.example"}), ("solo@x.example",))


def test_unowned_threads_are_in_scope_through_their_candidates():
    scope = frozenset({"boss@x.example"})
    assert in_scope(None, ("boss@x.example", "other@x.example"), scope)
    assert not in_scope(None, ("other@x.example",), scope)
    assert not in_scope("other@x.example", ("boss@x.example",), scope)
    assert in_scope("other@x.example", (), None)


def test_open_statuses_are_the_metrics_ones():
    assert metrics.OPEN_STATUSES is OPEN_STATUSES
    assert "bounced" not in OPEN_STATUSES


def _chain_settings(settings):
    """Ana manages Luis, Luis manages Sofía, Marta manages Ana: Ana is a VP under Marta."""
    managers = {REP: MANAGER, OTHER_REP: REP, SDR: OTHER_REP}
    members = tuple(dataclasses.replace(m, manager=managers.get(m.email, m.manager),
                                        role="manager" if m.email == REP else m.role,
                                        admin=m.admin and m.email == MANAGER)
                    for m in settings.team.members)
    return dataclasses.replace(settings, team=dataclasses.replace(settings.team, members=members))


def test_a_vp_sees_the_same_threads_on_the_web_and_in_the_digest(web):
    settings = _chain_settings(web.settings)
    [recipient] = [r for r in D.recipients(settings) if r.email == REP]
    viewer = users.viewer_for(settings, REP)
    assert recipient.scope == viewer.scope == {REP, OTHER_REP, SDR}
    reports = scan(settings, web.engine, web.now)
    below = [r for r in reports if r.owner == OTHER_REP and r.status == "silent"]
    outside = [r for r in reports if r.owner == MANAGER]
    assert below, "the sample has silent threads of Luis"
    client = app_for(settings, web.engine, web.now).test_client()
    token = csrf(client.get("/login").text)
    client.post("/login", data={"email": REP, "password": "demo", "csrf_token": token})
    page = client.get("/team").text
    assert all(thread_slug(r.quote_message_id) in page for r in below[:10])
    assert client.get(f"/threads/{thread_slug(below[0].quote_message_id)}").status_code == 200
    if outside:
        assert client.get(f"/threads/{thread_slug(outside[0].quote_message_id)}").status_code == 404
    [digest] = D.build_digests(settings, web.engine, web.now, manager=REP)
    digest_threads = {r.quote_message_id for r in digest.current.reports}
    web_threads = {r.quote_message_id for r in reports
                   if in_scope(r.owner, r.owner_candidates, viewer.scope)}
    assert digest_threads == web_threads
