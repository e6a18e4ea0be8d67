"""Odoo CRM over the external JSON-2 API (19+, a bearer API key) or, for Odoo 18 and
older, XML-RPC ``execute_kw`` (``[crm] api = "xmlrpc"``).

The model calls (which ORM method with which arguments) are decided once, in
:class:`OdooCRM`; a transport only carries a call ``(model, method, named arguments)``.

JSON-2, the protocol (https://www.odoo.com/documentation/19.0/developer/reference/external_api.html):
a POST of a JSON object of the method's named arguments (``ids``, ``context``, the
method's parameters) to ``<url>/json/2/<model>/<method>``, with ``Authorization: bearer
<API key>`` and ``X-Odoo-Database: <database>``; success is 200 with the method's return
value as JSON, an error a 4xx/5xx with ``{"name", "message", "arguments", "context",
"debug"}`` (a refused key: 401 ``werkzeug.exceptions.Unauthorized``). Every call is its own
transaction, so each write here is one call that either happened or did not.

XML-RPC (https://www.odoo.com/documentation/17.0/developer/reference/external_api.html):
``<url>/xmlrpc/2/common`` ``authenticate(db, login, password, {})`` gives the user id
(``False`` when refused; an API key is accepted in place of the password, "API Keys"),
then ``<url>/xmlrpc/2/object`` ``execute_kw(db, uid, password, model, method, args,
kwargs)``: the record ids (when the method works on records) and ``create``'s values
positional, the rest by name. A refused key on ``execute_kw`` is a fault with code 3
(``AccessDenied``, odoo/addons/base/controllers/rpc.py ``xmlrpc_handle_exception_int``);
other faults are the ORM refusing the call (2 a UserError, 4 an AccessError, 1 anything
else, with its traceback). Each ``execute_kw`` is its own transaction too.

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

Phones (:meth:`OdooCRM.contact_phones`): the ``phone`` and ``mobile`` fields of the
``res.partner`` records whose ``email`` is the address (``=ilike``, so case does not
matter; its ``%``/``_`` wildcards may find more, so the answer is kept to the exact
addresses). Odoo 19 dropped ``mobile``
from ``res.partner`` (odoo/odoo commit 6b820eb6, "remove mobile field", in saas-18.2; the
OCA module ``partner_mobile`` brings it back), so which of the two exist is asked once with
``fields_get`` (the external API's "List record fields") before they are read: asking
``search_read`` for a field the model lacks fails the whole call ("Invalid field").
"""

from __future__ import annotations

import http.client
import json
import xmlrpc.client
from datetime import timezone
from xml.parsers.expat import ExpatError

from connectors.crm import (Activity, AuthExpired, Change, Changes, Deal, Organisation, Person,
                            Rejected, Throttled, Unavailable, email_batches, post_json)

__all__ = ["OdooCRM", "APIS"]

APIS = ("json2", "xmlrpc")
"""``[crm] api``: Odoo 19+'s JSON-2 API, or XML-RPC for Odoo 18 and older."""

_ALL = {"active_test": False}

PHONE_FIELDS = ("phone", "mobile")
"""``res.partner``'s number fields, where the version has them (``mobile``: 18 and older)."""


class _Json2:
    """POST ``<url>/json/2/<model>/<method>`` with the named arguments as a JSON object."""

    def __init__(self, url: str, database: str | None, key: str, timeout: float):
        self.url, self.database, self._key, self.timeout = url, database, key, timeout

    def who(self) -> str:
        return f"API key accepted{' on ' + self.database if self.database else ''}"

    def __call__(self, model: str, method: str, params: dict):
        headers = {"Content-Type": "application/json; charset=utf-8",
                   "Authorization": f"bearer {self._key}", "User-Agent": "followup"}
        if self.database:
            headers["X-Odoo-Database"] = self.database
        body = json.dumps(params).encode()
        _, raw = post_json(f"{self.url}/json/2/{model}/{method}", body, headers, self.timeout,
                           crm="Odoo", refused="the API key")
        return json.loads(raw or b"null")


def _timed(url: str, timeout: float) -> xmlrpc.client.Transport:
    """An XML-RPC transport (TLS for https://) whose connections time out after ``timeout``."""
    base = xmlrpc.client.SafeTransport if url.startswith("https:") else xmlrpc.client.Transport

    class Timed(base):
        def make_connection(self, host):
            connection = super().make_connection(host)
            connection.timeout = timeout
            return connection

    return Timed()


class _XmlRpc:
    """``execute_kw`` on ``<url>/xmlrpc/2/object`` as the user ``authenticate`` on
    ``<url>/xmlrpc/2/common`` names (once, on the first call)."""

    def __init__(self, url: str, database: str, login: str, key: str, timeout: float):
        self.url, self.database, self.login, self._key = url, database, login, key
        self._common = xmlrpc.client.ServerProxy(f"{url}/xmlrpc/2/common",
                                                 transport=_timed(url, timeout))
        self._object = xmlrpc.client.ServerProxy(f"{url}/xmlrpc/2/object",
                                                 transport=_timed(url, timeout))
        self._uid: int | None = None

    def who(self) -> str:
        return f"{self.login} (user {self._uid}) on {self.database} over XML-RPC"

    def _uid_or_sign_in(self) -> int:
        if self._uid is None:
            uid = self._rpc(self._common.authenticate, self.database, self.login, self._key, {})
            if not uid:  # odoo/service/common.py exp_authenticate: False when refused
                raise AuthExpired(f"Odoo refused the sign-in of {self.login} on {self.database} "
                                  "with this API key or password: re-authenticate")
            self._uid = uid
        return self._uid

    def __call__(self, model: str, method: str, params: dict):
        named = dict(params)
        args = []
        if "ids" in named:  # a method on records: the ids come first
            args.append(named.pop("ids"))
        if method == "create":  # Odoo reads create's values positionally (odoo/api.py)
            args.append(named.pop("vals_list"))
        uid = self._uid_or_sign_in()
        return self._rpc(self._object.execute_kw, self.database, uid, self._key, model, method,
                         args, named)

    def _rpc(self, function, *args):
        try:
            return function(*args)
        except xmlrpc.client.Fault as fault:
            if fault.faultCode in (3, "AccessDenied"):
                raise AuthExpired(f"Odoo refused the API key or password of {self.login} "
                                  "(XML-RPC Access Denied): re-authenticate") from None
            raise Rejected(f"Odoo refused the call (XML-RPC fault {fault.faultCode}): "
                           f"{self._scrub(_gist(str(fault.faultString)))}") from None
        except xmlrpc.client.ProtocolError as exc:
            if exc.errcode in (401, 403):
                raise AuthExpired(f"Odoo refused the API key or password of {self.login} "
                                  f"(HTTP {exc.errcode}): re-authenticate") from None
            if exc.errcode == 429:
                after = (exc.headers or {}).get("Retry-After")
                raise Throttled("Odoo is rate-limiting us (HTTP 429)",
                                float(after) if after and after.isdigit() else None) from None
            if exc.errcode >= 500:
                raise Unavailable(f"Odoo answered HTTP {exc.errcode}") from None
            raise Rejected(f"Odoo answered HTTP {exc.errcode} at {self.url}/xmlrpc/2: check "
                           'url (Odoo 19+ also speaks JSON-2: api = "json2")') from None
        except (xmlrpc.client.Error, ExpatError, http.client.HTTPException, OSError) as exc:
            reason = getattr(exc, "reason", None) or exc.__class__.__name__
            raise Unavailable(f"Odoo at {self.url} is unreachable over XML-RPC "
                              f"({self._scrub(str(reason))})") from None

    def _scrub(self, text: str) -> str:
        return text.replace(self._key, "…") if self._key else text


def _gist(fault: str) -> str:
    """A fault's message in one line: a traceback's last line, another message's first."""
    lines = [line.strip() for line in fault.strip().splitlines() if line.strip()] or [""]
    return (lines[-1] if lines[0].startswith("Traceback") else lines[0])[:300]


class OdooCRM:
    kind = "odoo"

    def __init__(self, url: str, database: str | None, api_key: str, *, api: str = "json2",
                 login: str | None = None, key_field: str = "x_followup_key",
                 timeout: float = 30.0):
        self.url = url.rstrip("/")
        self.database = database
        self.key_field = key_field
        self.timeout = timeout
        if api == "xmlrpc":
            if not database or not login:
                raise ValueError("XML-RPC needs the database and the login to sign in with")
            self._transport = _XmlRpc(self.url, database, login, api_key, timeout)
        elif api == "json2":
            self._transport = _Json2(self.url, database, api_key, timeout)
        else:
            raise ValueError(f"api {api!r} is not one of {', '.join(APIS)}")
        self._phone_fields: list[str] | None = None

    def _call(self, model: str, method: str, **params):
        return self._transport(model, method, params)

    def check(self) -> str:
        count = self._call("crm.lead", "search_count", domain=[])
        return f"{self._transport.who()} ({count} leads)"

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

    def _partner_phone_fields(self) -> list[str]:
        if self._phone_fields is None:
            known = self._call("res.partner", "fields_get", allfields=list(PHONE_FIELDS),
                               attributes=["type"])
            self._phone_fields = [f for f in PHONE_FIELDS if f in (known or {})]
        return self._phone_fields

    def contact_phones(self, emails) -> dict[str, list[str]]:
        fields = self._partner_phone_fields()
        out: dict[str, list[str]] = {}
        if not fields:
            return out
        for batch in email_batches(emails):
            wanted = set(batch)
            domain = ["|"] * (len(batch) - 1) + [["email", "=ilike", e] for e in batch]
            for row in self._call("res.partner", "search_read", domain=domain,
                                  fields=["email", *fields], order="id"):
                email = (row.get("email") or "").strip().lower()
                if email not in wanted:
                    continue  # "_" in an address is a wildcard to =ilike
                for field in fields:
                    number = row.get(field)
                    if number and isinstance(number, str) and number not in out.get(email, []):
                        out.setdefault(email, []).append(number)
        return out

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

