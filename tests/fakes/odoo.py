"""A loopback Odoo 19 speaking the external JSON-2 API, for the Odoo CRM connector's tests.

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
Throttling is not in Odoo's API page: the fake answers 429 with ``Retry-After`` (RFC 9110
section 10.2.3) when told to, as a reverse proxy in front of Odoo would.
"""

from __future__ import annotations

import json
import threading
import time
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ARCHIVABLE = {"crm.lead", "res.partner", "res.users"}


def _match(record: dict, domain: list) -> bool:
    stack: list[bool] = []
    for term in reversed(domain):
        if term == "|":
            stack.append(stack.pop() or stack.pop())
        elif term == "&":
            stack.append(stack.pop() and stack.pop())
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
    def __init__(self, api_key: str, database: str = "acme"):
        self.api_key = api_key
        self.database = database
        self.models: dict[str, dict[int, dict]] = {m: {} for m in (
            "res.partner", "res.users", "crm.lead", "mail.message")}
        self._next = 1
        self._clock = 0
        self.lock = threading.Lock()
        self.throttle: tuple[int, int] | None = None  # (requests to refuse, Retry-After)
        self.calls: list[str] = []
        self.delay = 0.0  # seconds each call takes (a kill -9 test needs time to aim)
        handler = type("Handler", (_Handler,), {"odoo": self})
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

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

    def call(self, model: str, method: str, args: dict):
        records = self.models.get(model)
        if records is None:
            raise KeyError(model)
        context = args.get("context")
        ids = args.get("ids") or []
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

    def do_POST(self):  # noqa: N802
        odoo = self.odoo
        length = int(self.headers.get("Content-Length") or 0)
        args = json.loads(self.rfile.read(length) or b"{}")
        parts = self.path.strip("/").split("/")
        if len(parts) != 4 or parts[:2] != ["json", "2"]:
            return self._error(404, "werkzeug.exceptions.NotFound", "Not Found")
        with odoo.lock:
            if odoo.throttle and odoo.throttle[0] > 0:
                odoo.throttle = (odoo.throttle[0] - 1, odoo.throttle[1])
                return self._error(429, "werkzeug.exceptions.TooManyRequests", "Too Many Requests",
                                   {"Retry-After": str(odoo.throttle[1])})
            if self.headers.get("Authorization") != f"bearer {odoo.api_key}":
                return self._error(401, "werkzeug.exceptions.Unauthorized", "Invalid apikey")
            if self.headers.get("X-Odoo-Database") not in (None, odoo.database):
                return self._error(404, "werkzeug.exceptions.NotFound", "database not found")
            model, method = parts[2], parts[3]
            odoo.calls.append(f"{model}.{method}")
            if odoo.delay:
                time.sleep(odoo.delay)
            try:
                result = odoo.call(model, method, args)
            except (KeyError, AttributeError, ValueError) as exc:
                return self._error(422 if isinstance(exc, ValueError) else 404,
                                   "odoo.exceptions.UserError", str(exc))
        return self._answer(200, result)
