"""The Tryton connector against a real trytond + sale_opportunity (tests/tryton.py):
every upsert finds what it made, stages go through Tryton's workflow, changes read back,
and the error tree (a wrong password, a server that is down)."""

from __future__ import annotations

from datetime import date, datetime, timezone

import pytest

from connectors.crm import (Activity, AuthExpired, Deal, Organisation, Person, Rejected,
                            Unavailable)
from connectors.crm.tryton import TrytonCRM
from tests.tryton import ADMIN_PASSWORD


def connect(tryton, password=ADMIN_PASSWORD) -> TrytonCRM:
    return TrytonCRM(tryton.url, tryton.database, "admin", password)


def test_upserts_find_what_they_made(tryton):
    crm = connect(tryton)
    assert "admin on followup" in crm.check()
    org = crm.upsert_organisation(Organisation("grupoindustrialrio.example"))
    assert crm.upsert_organisation(Organisation("grupoindustrialrio.example")) == org
    person = crm.upsert_person(Person("gerardo@grupoindustrialrio.example", "Gerardo", org))
    assert crm.upsert_person(Person("GERARDO@grupoindustrialrio.example", "G", org)) == person
    deal = Deal("<q1@aceros.example>", "Cotización CN-1", org, person, date(2026, 11, 3))
    deal_id = crm.upsert_deal(deal)
    assert crm.upsert_deal(deal) == deal_id
    at = datetime(2026, 11, 3, 16, 5, tzinfo=timezone.utc)
    note = crm.log_activity(Activity("quote:<q1@aceros.example>", deal_id, "quote", at, "sent"))
    assert crm.log_activity(Activity("quote:<q1@aceros.example>", deal_id, "quote", at,
                                     "sent")) == note
    assert crm.set_owner(deal_id, "Ana@aceros.example") is True
    assert crm.set_owner(deal_id, "nobody@aceros.example") is False
    crm.set_stage(deal_id, "open")

    admin = tryton.admin()
    deals = admin.model("sale.opportunity", "search_read", [], 0, None, None,
                        ["reference", "state", "employee", "description", "party", "contact"])
    assert [(d["reference"], d["state"], d["description"]) for d in deals] == [
        ("<q1@aceros.example>", "opportunity", "Cotización CN-1")]
    ana = admin.model("res.user", "search_read", [("login", "=", "ana")], 0, 1, None,
                      ["employee"])[0]["employee"]
    assert deals[0]["employee"] == ana and deals[0]["party"] == int(org)
    notes = admin.model("ir.note", "search_read", [], 0, None, None, ["resource", "message"])
    assert [n["resource"] for n in notes] == [f"sale.opportunity,{deal_id}"]
    assert notes[0]["message"].startswith("[followup quote:<q1@aceros.example>]\nquote · 2026-11-03 16:05 UTC")

    first = crm.changes_since(None)
    assert [(c.key, c.stage, c.owner_email) for c in first.changes] == [
        ("<q1@aceros.example>", "open", "ana@aceros.example")]
    admin.model("sale.opportunity", "lost", [int(deal_id)])  # a person, in Tryton
    later = crm.changes_since(first.cursor)
    assert [(c.key, c.stage) for c in later.changes] == [("<q1@aceros.example>", "lost")]
    crm.close()


def test_won_goes_through_the_workflow(tryton):
    crm = connect(tryton)
    org = crm.upsert_organisation(Organisation("lonestarfab.example"))
    deal_id = crm.upsert_deal(Deal("<q2@aceros.example>", "Quote Q-1187", org))
    crm.set_owner(deal_id, "luis@aceros.example")
    crm.set_stage(deal_id, "won")
    state = tryton.admin().model("sale.opportunity", "read", [int(deal_id)], ["state"])[0]
    assert state["state"] == "converted"
    assert [c.stage for c in crm.changes_since(None).changes] == ["won"]


def test_a_deal_without_an_owner_stays_a_lead(tryton):
    crm = connect(tryton)
    deal_id = crm.upsert_deal(Deal("<q3@aceros.example>", "Sin responsable"))
    crm.set_stage(deal_id, "open")
    state = tryton.admin().model("sale.opportunity", "read", [int(deal_id)], ["state"])[0]
    assert state["state"] == "lead"
    with pytest.raises(Rejected):  # converted needs a party and an employee
        crm.set_stage(deal_id, "won")


def test_errors_name_what_to_do(tryton):
    with pytest.raises(AuthExpired, match="re-authenticate"):
        connect(tryton, password="wrong").check()
    crm = connect(tryton)
    crm.check()
    tryton.stop()
    with pytest.raises(Unavailable, match="unreachable"):
        crm.upsert_organisation(Organisation("x.example"))
    assert ADMIN_PASSWORD not in str(AuthExpired)
