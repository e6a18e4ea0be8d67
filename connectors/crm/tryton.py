"""Tryton (``trytond`` + ``sale_opportunity``) over JSON-RPC with a session login.

The protocol as trytond 8.x serves it (``trytond/protocols/dispatcher.py``,
``wrappers.py``, ``jsonrpc.py``): a POST to ``<url>/<database>/rpc/`` of
``{"id", "method", "params"}``; ``common.db.login`` with ``[login, {"password": ...},
language]`` answers ``[user id, session, ...]``; every later call carries
``Authorization: Session base64(login:user id:session)``, and ``model.<model>.<method>``
takes the method's arguments then the context (the user's preferences,
``model.res.user.get_preferences``: they name the company). A refused session is HTTP 401
(we sign in again once), a refused login 401/403, a rate limit 429; a model error comes
back as ``{"error": [...]}`` in a 200 answer. Dates travel as
``{"__class__": "date", "year", "month", "day"}`` (datetimes likewise, with time fields).

What Followup writes:

- organisation: a ``party.party`` (its name);
- person: a ``party.contact_mechanism`` of type ``email`` on that party (Tryton's
  opportunities name their contact that way: ``sale.opportunity.contact``);
- deal: a ``sale.opportunity`` -- ``reference`` = the quote's Message-ID (the key),
  ``description`` = the subject, ``party``, ``contact``, ``start_date``, ``comment``;
  owner: ``employee`` (the ``company.employee`` of the ``res.user`` whose ``email`` is the
  owner's); stage: ``state`` (open -> ``opportunity``, or ``lead`` while no owner is set,
  since Tryton requires an employee past ``lead``; won -> ``converted`` then ``won``
  where the workflow allows; lost -> ``lost``), through the workflow's buttons;
- activity: an ``ir.note`` on the opportunity (``resource`` = ``sale.opportunity,<id>``),
  its first line ``[followup <key>]`` (the idempotency key), then what happened.
  ``sale_opportunity`` has no activity model of its own; notes are Tryton's way to attach
  dated text to any record (the client's "Notes" side panel, copied with the record,
  ``NoteCopyMixin``), readable and searchable over RPC, which the key needs.

Reading back: ``search_read`` of the opportunities created or written since the cursor
(their ``write_date``), their ``state`` mapped back (``converted``/``won`` -> won,
``lost``/``cancelled`` -> lost, else open) and their employee's user's email.

Phones (:meth:`TrytonCRM.contact_phones`): a party's ways to reach it are its
``party.contact_mechanism`` records (the party module's design: ``type`` one of phone,
mobile, fax, email, website, ... ; ``value``; an optional ``name``, the person it reaches;
archived ones left out of searches, ``DeactivableMixin``). A person is found by an email
mechanism (``ilike``, its wildcards escaped: Tryton's ``like`` operators escape with a
backslash, so the match is exact but for case); their numbers are the ``phone`` and
``mobile`` mechanisms of the same party -- all of them when that party has only this one
email, else (a company's party holding several people's emails, as Followup's own
``upsert_person`` makes them) those whose ``name`` is the email mechanism's ``name``.
"""

from __future__ import annotations

import base64
import itertools
import json
from datetime import date, datetime, timezone

from connectors.crm import (Activity, AuthExpired, Changes, Change, CRMError, Deal,
                            Organisation, Person, Rejected, Unavailable, email_batches,
                            post_json)

__all__ = ["TrytonCRM", "DEFAULT_STAGES"]

DEFAULT_STAGES = {"open": "opportunity", "won": "converted", "lost": "lost"}
"""Our stages -> Tryton's ``sale.opportunity.state`` (settings ``[crm] stages``)."""

_BACK = {"lead": "open", "opportunity": "open", "converted": "won", "won": "won",
         "lost": "lost", "cancelled": "lost"}
_BUTTON = {"lead": "lead", "opportunity": "opportunity", "converted": "convert",
           "lost": "lost", "cancelled": "cancel"}
"""The workflow's transition method for each target state (``won`` is reached by Tryton
itself once the converted sale is done)."""

_PHONE_TYPES = ("phone", "mobile")
"""The ``party.contact_mechanism`` types that are numbers a chat can come from (not fax)."""

_ids = itertools.count(1)


def _exactly(text: str) -> str:
    """``text`` as an ``ilike`` pattern matching only itself (Tryton escapes with ``\\``)."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _encode(value):
    if isinstance(value, datetime):
        value = value.astimezone(timezone.utc).replace(tzinfo=None) if value.tzinfo else value
        return {"__class__": "datetime", "year": value.year, "month": value.month,
                "day": value.day, "hour": value.hour, "minute": value.minute,
                "second": value.second, "microsecond": value.microsecond}
    if isinstance(value, date):
        return {"__class__": "date", "year": value.year, "month": value.month, "day": value.day}
    raise TypeError(f"cannot send {type(value).__name__}")


def _decode(obj):
    kind = obj.get("__class__")
    if kind == "datetime":
        return datetime(obj["year"], obj["month"], obj["day"], obj["hour"], obj["minute"],
                        obj["second"], obj["microsecond"])
    if kind == "date":
        return date(obj["year"], obj["month"], obj["day"])
    return obj


class TrytonCRM:
    kind = "tryton"

    def __init__(self, url: str, database: str, username: str, password: str, *,
                 stages: dict[str, str] | None = None, timeout: float = 30.0):
        self.url = f"{url.rstrip('/')}/{database}/rpc/"
        self.database = database
        self.username = username
        self._password = password
        self.stages = {**DEFAULT_STAGES, **(stages or {})}
        self.timeout = timeout
        self._session: str | None = None
        self._context: dict | None = None
        # What this connection wrote or read, so one sync asks Tryton each thing once
        # (Followup is the only writer within a sync's seconds; a new sync starts afresh).
        self._parties: dict[str, str] = {}
        self._contacts: dict[str, str] = {}
        self._employees: dict[str, int | None] = {}
        self._deals: dict[str, dict] = {}  # id -> {"state", "employee"} as last read/written
        self._new_deals: set[str] = set()  # made by this connection: no notes of anyone else
        self._notes: dict[tuple[str, str], str] = {}  # (resource, tag) -> the note made

    # --- The wire --------------------------------------------------------------------------

    def _post(self, method: str, params: list, session: str | None):
        body = json.dumps({"id": next(_ids), "method": method, "params": params},
                          default=_encode).encode()
        headers = {"Content-Type": "application/json"}
        if session:
            headers["Authorization"] = "Session " + session
        _, raw = post_json(self.url, body, headers, self.timeout, crm="Tryton",
                           refused=f"the sign-in of {self.username!r} on {self.database!r}",
                           statuses={404: Unavailable(
                               f"Tryton has no database {self.database!r} (HTTP 404)")})
        answer = json.loads(raw, object_hook=_decode)
        if answer.get("error"):
            error = answer["error"]
            # [exception name, [message, description, ...]] (jsonrpc.py: TrytonException.args)
            text = error
            if isinstance(error, list) and error:
                text = error[0]
                if len(error) > 1 and isinstance(error[1], list) and error[1]:
                    text = f"{error[0]}: {error[1][0]}"
            raise Rejected(f"Tryton refused {method}: {str(text).splitlines()[0][:300]}")
        return answer.get("result")

    def _login(self) -> None:
        result = self._post("common.db.login",
                            [self.username, {"password": self._password}, "en"], None)
        if not result:
            raise AuthExpired(f"Tryton refused the sign-in of {self.username!r}: re-authenticate")
        user_id, token = result[0], result[1]
        self._session = base64.b64encode(
            f"{self.username}:{user_id}:{token}".encode()).decode()
        self._context = self._post("model.res.user.get_preferences", [True, {}], self._session)

    def _call(self, model: str, method: str, *params):
        if self._session is None:
            self._login()
        full = f"model.{model}.{method}"
        try:
            return self._post(full, [*params, self._context], self._session)
        except AuthExpired:
            self._login()  # the session timed out: sign in once more, then give up
            return self._post(full, [*params, self._context], self._session)

    # --- The protocol ----------------------------------------------------------------------

    def check(self) -> str:
        self._login()
        company = self._context.get("company")
        return f"{self.username} on {self.database} (company {company})"

    def _find_or_create(self, model: str, domain: list, values: dict) -> str:
        found = self._call(model, "search", domain, 0, 1, None)
        if found:
            return str(found[0])
        made, = self._call(model, "create", [values])
        return str(made)

    def upsert_organisation(self, organisation: Organisation) -> str:
        name = organisation.name
        if name not in self._parties:
            self._parties[name] = self._find_or_create("party.party", [("name", "=", name)],
                                                       {"name": name})
        return self._parties[name]

    def upsert_person(self, person: Person) -> str:
        email = person.email.lower()
        if email in self._contacts:
            return self._contacts[email]
        found = self._call("party.contact_mechanism", "search",
                           [("type", "=", "email"), ("value", "=", email)], 0, 1, None)
        if found:
            self._contacts[email] = str(found[0])
            return self._contacts[email]
        party = person.organisation_id
        if party is None:
            party = self.upsert_organisation(Organisation(person.name or email))
        made, = self._call("party.contact_mechanism", "create", [{
            "party": int(party), "type": "email", "value": email, "name": person.name or ""}])
        self._contacts[email] = str(made)
        return self._contacts[email]

    def upsert_deal(self, deal: Deal) -> str:
        found = self._call("sale.opportunity", "search", [("reference", "=", deal.key)],
                           0, 1, None)
        values = {"description": deal.title[:250]}
        if deal.organisation_id:
            values["party"] = int(deal.organisation_id)
        if deal.person_id:
            values["contact"] = int(deal.person_id)
        if found:
            current, = self._call("sale.opportunity", "read", found,
                                  ["description", "party", "contact", "state", "employee"])
            changed = {k: v for k, v in values.items() if current.get(k) != v}
            if changed and current["state"] in ("lead", "opportunity"):
                self._call("sale.opportunity", "write", found, changed)
            self._deals[str(found[0])] = {"state": current["state"],
                                          "employee": current["employee"]}
            return str(found[0])
        values.update({"reference": deal.key,
                       "comment": f"Followup: the quote thread {deal.key}"})
        if deal.opened_on:
            values["start_date"] = deal.opened_on
        made, = self._call("sale.opportunity", "create", [values])
        self._deals[str(made)] = {"state": "lead", "employee": None}
        self._new_deals.add(str(made))
        return str(made)

    def _deal(self, deal_id: str) -> dict:
        if deal_id not in self._deals:
            current, = self._call("sale.opportunity", "read", [int(deal_id)],
                                  ["state", "employee"])
            self._deals[deal_id] = {"state": current["state"], "employee": current["employee"]}
        return self._deals[deal_id]

    def log_activity(self, activity: Activity) -> str:
        resource = f"sale.opportunity,{int(activity.deal_id)}"
        tag = f"[followup {activity.key}]"
        if (resource, tag) in self._notes:
            return self._notes[resource, tag]
        if str(activity.deal_id) not in self._new_deals:  # a new deal has only our notes
            found = self._call("ir.note", "search",
                               [("resource", "=", resource), ("message", "like", tag + "%")],
                               0, 1, None)
            if found:
                return str(found[0])
        when = activity.at.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
        lines = [tag, f"{activity.kind} · {when}" + (f" · {activity.by}" if activity.by else "")]
        if activity.summary:
            lines.append(activity.summary)
        made, = self._call("ir.note", "create", [{"resource": resource,
                                                  "message": "\n".join(lines)}])
        self._notes[resource, tag] = str(made)
        return str(made)

    def _employee_of(self, email: str) -> int | None:
        email = email.lower()
        if email not in self._employees:
            users = self._call("res.user", "search_read", [("email", "=", email)],
                               0, 1, None, ["employee", "employees"])
            user = users[0] if users else {}
            self._employees[email] = user.get("employee") or (user.get("employees") or [None])[0]
        return self._employees[email]

    def set_owner(self, deal_id: str, email: str) -> bool:
        employee = self._employee_of(email)
        if employee is None:
            return False
        current = self._deal(str(deal_id))
        if current["employee"] != employee:
            if current["state"] not in ("lead", "opportunity"):
                return True  # closed in Tryton: its owner is Tryton's to keep
            self._call("sale.opportunity", "write", [int(deal_id)], {"employee": employee})
            current["employee"] = employee
        return True

    def set_stage(self, deal_id: str, stage: str) -> None:
        target = self.stages[stage]
        current = self._deal(str(deal_id))
        state = current["state"]
        if target == "opportunity" and not current["employee"]:
            target = "lead"  # Tryton requires an employee past "lead"
        if state == target or (stage != "open" and _BACK.get(state) == stage):
            return  # already there (a converted deal Tryton has since marked won stays)
        if target == "converted" and state == "lead":  # the button shows from "opportunity"
            self._call("sale.opportunity", "opportunity", [int(deal_id)])
        method = _BUTTON.get(target)
        if method is None:
            raise Rejected(f"Tryton has no transition to the state {target!r}")
        self._deals.pop(str(deal_id), None)  # what the workflow made of it is read afresh
        self._call("sale.opportunity", method, [int(deal_id)])

    def changes_since(self, cursor: str | None) -> Changes:
        domain: list = []
        if cursor:
            since = datetime.fromisoformat(cursor)
            domain = ["OR", ("write_date", ">=", since), ("create_date", ">=", since)]
        rows = self._call("sale.opportunity", "search_read", domain, 0, None, [["id", "ASC"]],
                          ["reference", "state", "employee", "write_date", "create_date"])
        employees = {r["employee"] for r in rows if r.get("employee")}
        emails: dict[int, str] = {}
        if employees:
            users = self._call("res.user", "search_read",
                               [("employees", "in", sorted(employees))], 0, None, None,
                               ["email", "employee", "employees"])
            for user in users:
                for employee in [user.get("employee"), *(user.get("employees") or [])]:
                    if employee and user.get("email"):
                        emails.setdefault(employee, user["email"].lower())
        latest = datetime.fromisoformat(cursor) if cursor else None
        out = []
        for row in rows:
            stamp = row.get("write_date") or row.get("create_date")
            if stamp and (latest is None or stamp > latest):
                latest = stamp
            out.append(Change(deal_id=str(row["id"]), key=row.get("reference") or None,
                              stage=_BACK.get(row["state"], "open"),
                              owner_email=emails.get(row.get("employee"))))
        return Changes(out, latest.isoformat() if latest else cursor)

    def contact_phones(self, emails) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for batch in email_batches(emails):
            wanted = set(batch)
            found = self._call("party.contact_mechanism", "search_read",
                               [("type", "=", "email"),
                                ["OR", *[("value", "ilike", _exactly(e)) for e in batch]]],
                               0, None, None, ["value", "party", "name"])
            found = [m for m in found if (m.get("value") or "").strip().lower() in wanted]
            parties = sorted({m["party"] for m in found})
            if not parties:
                continue
            mechanisms = self._call("party.contact_mechanism", "search_read",
                                    [("party", "in", parties),
                                     ("type", "in", ["email", *_PHONE_TYPES])],
                                    0, None, [["party", "ASC"], ["sequence", "ASC"], ["id", "ASC"]],
                                    ["type", "value", "party", "name"])
            emails_of: dict[int, int] = {}
            for m in mechanisms:
                if m["type"] == "email":
                    emails_of[m["party"]] = emails_of.get(m["party"], 0) + 1
            for mechanism in found:
                party, name = mechanism["party"], _folded(mechanism.get("name"))
                alone = emails_of.get(party, 0) <= 1
                numbers = [m["value"] for m in mechanisms
                           if m["party"] == party and m["type"] in _PHONE_TYPES and m.get("value")
                           and (alone or (name and _folded(m.get("name")) == name))]
                if numbers:
                    email = mechanism["value"].strip().lower()
                    out.setdefault(email, [])
                    out[email].extend(n for n in numbers if n not in out[email])
        return out

    def close(self) -> None:
        if self._session is not None:
            try:
                self._post("common.db.logout", [], self._session)
            except CRMError:
                pass
            self._session = None


def _folded(name: str | None) -> str:
    return " ".join((name or "").split()).casefold()
