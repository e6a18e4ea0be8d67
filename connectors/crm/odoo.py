"""Odoo CRM (19+) over the external JSON-2 API, with a bearer API key.

The protocol (https://www.odoo.com/documentation/19.0/developer/reference/external_api.html):
a POST of a JSON object of the method's named arguments (``ids``, ``context``, the
method's parameters) to ``<url>/json/2/<model>/<method>``, with ``Authorization: bearer
<API key>`` and ``X-Odoo-Database: <database>``; success is 200 with the method's return
value as JSON, an error a 4xx/5xx with ``{"name", "message", "arguments", "context",
"debug"}`` (a refused key: 401 ``werkzeug.exceptions.Unauthorized``). Every call is its own
transaction, so each write here is one call that either happened or did not.

What Followup writes:

- organisation: a ``res.partner`` with ``is_company`` (its name);
- person: a ``res.partner`` (``email``, ``name``, ``parent_id`` the organisation);
- deal: a ``crm.lead`` of ``type`` ``opportunity``: ``name`` = the subject,
  ``partner_id``, ``user_id`` (the ``res.users`` whose ``login`` or ``email`` is the
  owner's), and the quote's Message-ID in the field named by ``key_field`` (default
  ``x_followup_key``: a Char field the admin adds once, README);
- activity: a note on the lead (``message_post`` with ``message_type`` ``comment`` and
  subtype ``mail.mt_note``), its body starting ``[followup <key>]``; found again by
  ``mail.message`` ``search`` on ``model``/``res_id``/``body``;
- stage: won -> ``action_set_won``, lost -> ``action_set_lost``, open -> nothing (a lead
  is open unless archived lost or won).

Read back: the leads written since the cursor (``write_date``, archived ones included:
``active_test`` off) -- ``active`` false with probability 0 is lost, probability 100 won.
"""

from __future__ import annotations

import json
from datetime import timezone

from connectors.crm import (Activity, Change, Changes, Deal, Organisation, Person, Rejected,
                            post_json)

__all__ = ["OdooCRM"]

_ALL = {"active_test": False}


class OdooCRM:
    kind = "odoo"

    def __init__(self, url: str, database: str | None, api_key: str, *,
                 key_field: str = "x_followup_key", timeout: float = 30.0):
        self.url = url.rstrip("/")
        self.database = database
        self._key = api_key
        self.key_field = key_field
        self.timeout = timeout

    def _call(self, model: str, method: str, **params):
        headers = {"Content-Type": "application/json; charset=utf-8",
                   "Authorization": f"bearer {self._key}", "User-Agent": "followup"}
        if self.database:
            headers["X-Odoo-Database"] = self.database
        body = json.dumps(params).encode()
        _, raw = post_json(f"{self.url}/json/2/{model}/{method}", body, headers, self.timeout,
                           crm="Odoo", refused="the API key")
        return json.loads(raw or b"null")

    def check(self) -> str:
        count = self._call("crm.lead", "search_count", domain=[])
        return f"API key accepted{' on ' + self.database if self.database else ''} ({count} leads)"

    def _find_or_create(self, model: str, domain: list, values: dict) -> str:
        found = self._call(model, "search", domain=domain, limit=1, context=_ALL)
        if found:
            return str(found[0])
        made = self._call(model, "create", vals_list=[values])
        return str(made[0])

    def upsert_organisation(self, organisation: Organisation) -> str:
        return self._find_or_create(
            "res.partner", [["is_company", "=", True], ["name", "=", organisation.name]],
            {"name": organisation.name, "is_company": True})

    def upsert_person(self, person: Person) -> str:
        email = person.email.lower()
        values = {"name": person.name or email, "email": email}
        if person.organisation_id:
            values["parent_id"] = int(person.organisation_id)
        return self._find_or_create("res.partner", [["email", "=ilike", email]], values)

    def upsert_deal(self, deal: Deal) -> str:
        values = {"name": deal.title, "type": "opportunity", self.key_field: deal.key}
        partner = deal.person_id or deal.organisation_id
        if partner:
            values["partner_id"] = int(partner)
        return self._find_or_create("crm.lead", [[self.key_field, "=", deal.key]], values)

    def log_activity(self, activity: Activity) -> str:
        tag = f"[followup {activity.key}]"
        found = self._call("mail.message", "search", domain=[
            ["model", "=", "crm.lead"], ["res_id", "=", int(activity.deal_id)],
            ["body", "ilike", tag]], limit=1)
        if found:
            return str(found[0])
        when = activity.at.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
        body = "\n".join([tag, f"{activity.kind} · {when}" + (f" · {activity.by}" if activity.by else ""),
                          activity.summary])
        made = self._call("crm.lead", "message_post", ids=[int(activity.deal_id)], body=body,
                          message_type="comment", subtype_xmlid="mail.mt_note")
        return str(made[0] if isinstance(made, list) else made)

    def set_owner(self, deal_id: str, email: str) -> bool:
        users = self._call("res.users", "search", domain=[
            "|", ["login", "=ilike", email], ["email", "=ilike", email]], limit=1)
        if not users:
            return False
        self._call("crm.lead", "write", ids=[int(deal_id)], vals={"user_id": users[0]})
        return True

    def set_stage(self, deal_id: str, stage: str) -> None:
        current = self._call("crm.lead", "read", ids=[int(deal_id)],
                             fields=["active", "probability"], context=_ALL)[0]
        if _stage(current) == stage:
            return
        if stage == "won":
            self._call("crm.lead", "action_set_won", ids=[int(deal_id)])
        elif stage == "lost":
            self._call("crm.lead", "action_set_lost", ids=[int(deal_id)])
        elif stage != "open":
            raise Rejected(f"no Odoo action for the stage {stage!r}")

    def changes_since(self, cursor: str | None) -> Changes:
        domain = [["write_date", ">=", cursor]] if cursor else []
        rows = self._call("crm.lead", "search_read", domain=domain, context=_ALL,
                          fields=[self.key_field, "active", "probability", "user_id",
                                  "write_date"], order="id")
        users = sorted({r["user_id"][0] for r in rows if r.get("user_id")})
        emails = {}
        if users:
            for user in self._call("res.users", "read", ids=users, fields=["login", "email"]):
                emails[user["id"]] = (user.get("email") or user.get("login") or "").lower() or None
        latest = cursor
        out = []
        for row in rows:
            if row.get("write_date") and (latest is None or row["write_date"] > latest):
                latest = row["write_date"]
            owner = emails.get(row["user_id"][0]) if row.get("user_id") else None
            out.append(Change(str(row["id"]), row.get(self.key_field) or None, _stage(row), owner))
        return Changes(out, latest)

    def close(self) -> None:
        pass


def _stage(row: dict) -> str:
    """Odoo's own reading (addons/crm/models/crm_lead.py, ``action_set_lost``: "Lost
    semantic: probability = 0 or active = False"; won: a won stage, probability 100)."""
    if not row.get("active", True) and not row.get("probability"):
        return "lost"
    if row.get("probability") == 100:
        return "won"
    return "open"

