"""A loopback Odoo speaking the external JSON-2 API (19+) and XML-RPC (up to 18), for the Odoo
CRM connector's tests: one in-memory database behind both.

Each behaviour follows Odoo's documentation, cited where it is faked:
- https://www.odoo.com/documentation/19.0/developer/reference/external_api.html
  ("Request": POST ``/json/2/<model>/<method>``, ``Authorization: bearer <key>``,
  ``X-Odoo-Database``, the body the method's named arguments with ``ids`` and
  ``context``; "Response": 200 with the JSON return value, or 4xx/5xx with ``{"name",
  "message", "arguments", "context", "debug"}``, e.g. 401 "Invalid apikey";
  "Transaction": one transaction per call).
- The ORM methods as the Model reference documents them
  (https://www.odoo.com/documentation/19.0/developer/reference/backend/orm.html):
  ``search(domain, offset, limit, order)``, ``search_count``, ``search_read(domain,
  fields, ...)``, ``read(fields)``, ``create(vals_list)`` returning the new ids,
  ``write(vals)``; domains as lists of ``[field, operator, value]`` with prefix ``|``;
  ``context.active_test`` false to include archived records.
- ``crm.lead.action_set_lost`` / ``action_set_won`` as addons/crm/models/crm_lead.py
  defines them (lost: ``active`` false and ``probability`` 0; won: probability 100), and
  ``message_post`` (mail.thread) returning the new ``mail.message`` id.
- XML-RPC as https://www.odoo.com/documentation/17.0/developer/reference/external_api.html
  describes it: ``/xmlrpc/2/common`` ``authenticate(db, login, password, {})`` returning
  the user's id ("Logging in"; an API key in place of the password, "API Keys"; ``False``
  when refused, odoo/service/common.py ``exp_authenticate``), ``/xmlrpc/2/object``
  ``execute_kw(db, uid, password, model, method, args, kwargs)`` ("Calling methods": the
  positional ``args``, e.g. ``search`` ``[[domain]]`` with ``{"limit": 5}``, ``create``
  ``[{values}]`` returning the id, ``write`` ``[[ids], {values}]``, ``read`` ``[ids]``
  with ``{"fields": [...]}``, ``search_read`` ``[domain]``); a wrong password or key on
  ``execute_kw`` is a fault with code 3 and "Access Denied", other errors faults 1 (with
  the traceback) as odoo/addons/base/controllers/rpc.py ``xmlrpc_handle_exception_int``
  makes them, marshalled without ``None`` (``allow_none=False``).
- ``fields_get(allfields, attributes)`` (the ORM reference; the external API's "List
  record fields": a dictionary of the model's fields, each with the attributes asked for)
  and the fields ``res.partner`` has: ``phone`` always, ``mobile`` only up to Odoo 18
  (removed from ``res.partner`` in saas-18.2, so Odoo 19 has none: odoo/odoo commit
  6b820eb6, "[REM] base: remove mobile field"); ``FakeOdoo(mobile=False)`` is such an Odoo.
  Reading or writing a field the model lacks fails the call as the ORM does (``ValueError:
  Invalid field 'mobile' on model 'res.partner'``).
Throttling is not in Odoo's API pages: the fake answers 429 with ``Retry-After`` (RFC 9110
section 10.2.3) when told to, as a reverse proxy in front of Odoo would.
"""

from __future__ import annotations

import json
import threading
import time
import xmlrpc.client
from datetime import datetime, timezone
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ARCHIVABLE = {"crm.lead", "res.partner", "res.users"}

MODEL_METHODS = {  # positional parameters, as the ORM reference names them
    "search": ("domain", "offset", "limit", "order"),
    "search_count": ("domain", "limit"),
    "search_read": ("domain", "fields", "offset", "limit", "order"),
    "create": ("vals_list",),
    "fields_get": ("allfields", "attributes"),
}
RECORD_METHODS = {  # methods on records: ``args[0]`` is the ids, then these
    "read": ("fields",), "write": ("vals",), "action_set_lost": (), "action_set_won": (),
    "message_post": (),
}
ACCESS_DENIED = 3  # odoo/addons/base/controllers/rpc.py RPC_FAULT_CODE_ACCESS_DENIED
APPLICATION_ERROR = 1
WARNING = 2  # a UserError, MissingError among them


PARTNER_FIELDS = {"id", "name", "email", "phone", "mobile", "is_company", "parent_id",
                  "active", "write_date", "display_name"}
"""``res.partner``'s fields the connector may touch (Odoo 18; 19 has no ``mobile``)."""


class MissingError(Exception):
    """odoo.exceptions.MissingError: a record that does not exist (a UserError)."""


def _match(record: dict, domain: list) -> bool:
    stack: list[bool] = []
    for term in reversed(domain):
        if term in ("|", "&"):  # prefix operators: both operands popped, always
            first, second = stack.pop(), stack.pop()
            stack.append(first or second if term == "|" else first and second)
        else:
            field, op, value = term
            have = record.get(field)
            if isinstance(have, list) and len(have) == 2 and isinstance(have[0], int):
                have = have[0]  # a many2one read back as [id, name]
            if op == "=":
                ok = have == value
            elif op == "=ilike":
                ok = isinstance(have, str) and have.lower() == str(value).lower()
            elif op == "ilike":
                ok = isinstance(have, str) and str(value).lower() in have.lower()
            elif op == ">=":
                ok = have is not None and have >= value
            elif op == "in":
                ok = have in value
            else:
                raise ValueError(f"operator {op}")
            stack.append(ok)
    return all(stack)


class FakeOdoo:
    def __init__(self, api_key: str, database: str = "acme", login: str = "followup", *,
                 mobile: bool = True):
        """``mobile``: ``res.partner`` has a ``mobile`` field (Odoo 18 and older)."""
        self.api_key = api_key
        self.fields = {"res.partner": PARTNER_FIELDS - (set() if mobile else {"mobile"})}
        """The declared fields of the models whose fields are checked."""
        self.database = database
        self.login = login
        self.models: dict[str, dict[int, dict]] = {m: {} for m in (
            "res.partner", "res.users", "crm.lead", "mail.message")}
        self._next = 1
        self._clock = 0
        self.lock = threading.Lock()
        self.throttle: tuple[int, int] | None = None  # (requests to refuse, Retry-After)
        self.outage: int | None = None  # the 5xx a proxy in front of a down Odoo answers
        self.calls: list[str] = []
        self.apis: set[str] = set()  # "json2", "xmlrpc": the ones called
        self.delay = 0.0  # seconds each call takes (a kill -9 test needs time to aim)
        handler = type("Handler", (_Handler,), {"odoo": self})
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever,  # stop() waits a poll
                                       kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()
        self.bot = self._create("res.users", {"login": login, "email": False, "name": "Followup"})
        """The user the API key belongs to (XML-RPC signs in as it)."""

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def _stamp(self) -> str:
        self._clock += 1  # strictly increasing, as "YYYY-MM-DD HH:MM:SS" orders
        base = datetime(2026, 11, 26, tzinfo=timezone.utc).timestamp() + self._clock
        return datetime.fromtimestamp(base, timezone.utc).strftime("%Y-%m-%d %H:%M:%S")

    def add_user(self, login: str, name: str) -> int:
        uid = self._create("res.users", {"login": login, "email": login, "name": name})
        return uid

    def _create(self, model: str, values: dict) -> int:
        rid = self._next
        self._next += 1
        record = {"id": rid, **values, "write_date": self._stamp()}
        if model in ARCHIVABLE:
            record.setdefault("active", True)
        if model == "crm.lead":
            record.setdefault("probability", 10.0)
        self.models[model][rid] = record
        return rid

    def _visible(self, model: str, context: dict | None):
        active_test = (context or {}).get("active_test", True)
        for record in self.models[model].values():
            if model in ARCHIVABLE and active_test and not record.get("active", True):
                continue
            yield record

    def _read(self, model: str, record: dict, fields: list | None) -> dict:
        out = {"id": record["id"]}
        for field in fields or [k for k in record if k != "id"]:
            value = record.get(field, False)
            if field in ("user_id", "partner_id", "parent_id") and value:
                value = [value, f"#{value}"]  # a many2one reads as [id, display name]
            out[field] = value
        return out

    def _check_fields(self, model: str, names) -> None:
        declared = self.fields.get(model)
        unknown = sorted(set(names or ()) - declared) if declared is not None else []
        if unknown:
            raise ValueError(f"Invalid field {unknown[0]!r} on model {model!r}")

    def call(self, model: str, method: str, args: dict):
        records = self.models.get(model)
        if records is None:
            raise KeyError(model)
        if method in ("read", "search_read"):
            self._check_fields(model, args.get("fields"))
        elif method == "create":
            for values in args["vals_list"]:
                self._check_fields(model, values)
        elif method == "write":
            self._check_fields(model, args["vals"])
        if method == "fields_get":
            declared = self.fields.get(model, set())
            wanted = args.get("allfields") or sorted(declared)
            attributes = args.get("attributes") or ["type", "string"]
            return {name: {a: {"type": "char", "string": name.replace("_", " ").title()}[a]
                           for a in attributes if a in ("type", "string")}
                    for name in wanted if name in declared}
        context = args.get("context")
        ids = args.get("ids") or []
        if any(i not in records for i in ids):
            raise MissingError("Record does not exist or has been deleted.")
        if method in ("search", "search_read", "search_count"):
            found = sorted((r for r in self._visible(model, context)
                            if _match(r, args.get("domain", []))), key=lambda r: r["id"])
            if args.get("limit"):
                found = found[:args["limit"]]
            if method == "search":
                return [r["id"] for r in found]
            if method == "search_count":
                return len(found)
            return [self._read(model, r, args.get("fields")) for r in found]
        if method == "read":
            return [self._read(model, records[i], args.get("fields")) for i in ids]
        if method == "create":
            return [self._create(model, dict(values)) for values in args["vals_list"]]
        if method == "write":
            for i in ids:
                records[i].update(args["vals"], write_date=self._stamp())
            return True
        if model == "crm.lead" and method == "action_set_lost":
            for i in ids:
                records[i].update(active=False, probability=0, write_date=self._stamp())
            return True
        if model == "crm.lead" and method == "action_set_won":
            for i in ids:
                records[i].update(probability=100, write_date=self._stamp())
            return True
        if model == "crm.lead" and method == "message_post":
            return [self._create("mail.message", {
                "model": model, "res_id": i, "body": args.get("body", ""),
                "message_type": args.get("message_type"),
                "subtype_xmlid": args.get("subtype_xmlid")}) for i in ids][0]
        raise AttributeError(f"{model}.{method}")

    def logged_call(self, model: str, method: str, args: dict):
        """:meth:`call` as a client's request makes it: noted in ``calls``, ``delay`` long."""
        self.calls.append(f"{model}.{method}")
        if self.delay:
            time.sleep(self.delay)
        return self.call(model, method, args)

    def xmlrpc(self, service: str, method: str, params: tuple):
        """One XML-RPC call on ``/xmlrpc/2/<service>``: its return value, or a Fault."""
        if service == "common" and method == "authenticate":
            db, login, password = params[:3]
            user = next((u for u in self.models["res.users"].values()
                         if u["login"] == login and u.get("active", True)), None)
            if db != self.database or user is None or user["id"] != self.bot \
                    or password != self.api_key:
                return False
            return user["id"]
        if service != "object" or method != "execute_kw":
            return xmlrpc.client.Fault(APPLICATION_ERROR, f"Traceback (most recent call last):\n"
                                       f"KeyError: '{service}.{method}'")
        db, uid, password, model, name = params[:5]
        args = list(params[5]) if len(params) > 5 else []
        kwargs = dict(params[6]) if len(params) > 6 else {}
        if db != self.database:
            return xmlrpc.client.Fault(APPLICATION_ERROR, "Traceback (most recent call last):\n"
                                       f'psycopg2.OperationalError: database "{db}" does not exist')
        if uid != self.bot or password != self.api_key:
            return xmlrpc.client.Fault(ACCESS_DENIED, "Access Denied")
        named = {}
        if name in RECORD_METHODS:
            named["ids"] = args.pop(0) if args else []
        single = name == "create" and args and isinstance(args[0], dict)
        if single:  # create({values}) makes one record and answers its id
            args[0] = [args[0]]
        names = RECORD_METHODS.get(name) or MODEL_METHODS.get(name) or ()
        named.update(zip(names, args))
        named.update(kwargs)
        try:
            result = self.logged_call(model, name, named)
        except MissingError as exc:
            return xmlrpc.client.Fault(WARNING, str(exc))
        except (KeyError, AttributeError, ValueError) as exc:
            return xmlrpc.client.Fault(APPLICATION_ERROR, "Traceback (most recent call last):\n"
                                       f"{type(exc).__name__}: {exc}")
        return result[0] if single else result


class _Handler(BaseHTTPRequestHandler):
    odoo: FakeOdoo

    def log_message(self, *args):  # quiet
        pass

    def _answer(self, status: int, document, headers: dict | None = None) -> None:
        body = json.dumps(document).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _error(self, status: int, name: str, message: str, headers=None) -> None:
        self._answer(status, {"name": name, "message": message, "arguments": [message, status],
                              "context": {}, "debug": ""}, headers)

    def _refused_by_a_proxy(self) -> bool:
        odoo = self.odoo
        if odoo.outage:
            self._error(odoo.outage, "werkzeug.exceptions.HTTPException",
                        HTTPStatus(odoo.outage).phrase)
            return True
        if odoo.throttle and odoo.throttle[0] > 0:
            odoo.throttle = (odoo.throttle[0] - 1, odoo.throttle[1])
            self._error(429, "werkzeug.exceptions.TooManyRequests", "Too Many Requests",
                        {"Retry-After": str(odoo.throttle[1])})
            return True
        return False

    def _xmlrpc(self, service: str, data: bytes) -> None:
        params, method = xmlrpc.client.loads(data)
        with self.odoo.lock:
            if self._refused_by_a_proxy():
                return
            result = self.odoo.xmlrpc(service, method, params)
        if isinstance(result, xmlrpc.client.Fault):
            body = xmlrpc.client.dumps(result, methodresponse=True)
        else:
            body = xmlrpc.client.dumps((result,), methodresponse=True, allow_none=False)
        self.send_response(200)  # a fault is a 200 too (the XML-RPC specification)
        self.send_header("Content-Type", "text/xml")
        self.send_header("Content-Length", str(len(body.encode())))
        self.end_headers()
        self.wfile.write(body.encode())

    def do_POST(self):  # noqa: N802
        odoo = self.odoo
        length = int(self.headers.get("Content-Length") or 0)
        data = self.rfile.read(length)
        parts = self.path.strip("/").split("/")
        if len(parts) == 3 and parts[:2] == ["xmlrpc", "2"]:
            odoo.apis.add("xmlrpc")
            return self._xmlrpc(parts[2], data)
        if len(parts) != 4 or parts[:2] != ["json", "2"]:
            return self._error(404, "werkzeug.exceptions.NotFound", "Not Found")
        args = json.loads(data or b"{}")
        odoo.apis.add("json2")
        with odoo.lock:
            if self._refused_by_a_proxy():
                return
            if self.headers.get("Authorization") != f"bearer {odoo.api_key}":
                return self._error(401, "werkzeug.exceptions.Unauthorized", "Invalid apikey")
            if self.headers.get("X-Odoo-Database") not in (None, odoo.database):
                return self._error(404, "werkzeug.exceptions.NotFound", "database not found")
            try:
                result = odoo.logged_call(parts[2], parts[3], args)
            except MissingError as exc:
                return self._error(422, "odoo.exceptions.MissingError", str(exc))
            except (KeyError, AttributeError, ValueError) as exc:
                return self._error(422 if isinstance(exc, ValueError) else 404,
                                   "odoo.exceptions.UserError", str(exc))
        return self._answer(200, result)
