"""A loopback HubSpot speaking the CRM API v3 endpoints that ``hubspot-api-client`` calls
for the HubSpot CRM connector (connectors/crm/hubspot.py), and no others.

Each behaviour follows HubSpot's developer docs, cited where it is faked:
- Objects (companies, contacts, deals, notes): create, read, update --
  https://developers.hubspot.com/docs/api/crm/understanding-the-crm and each object's
  guide (https://developers.hubspot.com/docs/api/crm/deals,
  https://developers.hubspot.com/docs/api-reference/crm-notes-v3/guide).
- Search: https://developers.hubspot.com/docs/api/crm/search
- Associations (type ids given at creation): https://developers.hubspot.com/docs/api-reference/crm-associations-v4/guide
- Owners: https://developers.hubspot.com/docs/api-reference/crm-crm-owners-v3/guide
- Rate limits and error bodies: https://developers.hubspot.com/docs/api/usage-details
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from datetime import datetime, timedelta, timezone
from urllib.parse import parse_qs, urlsplit

from tests.fakes._common import QuietHandler, Server

OBJECTS = ("companies", "contacts", "deals", "notes")
# Singular names used in ``associations.<type>`` search filters (search page,
# "Filter search results by associations").
SINGULAR = {"companies": "company", "contacts": "contact", "deals": "deal", "notes": "note"}
# HUBSPOT_DEFINED association type id -> (from, to) (associations v4 guide, "Association
# type IDs"); the inverse direction is stored too, as HubSpot shows an association from
# both records.
TYPES = {3: ("deals", "contacts"), 5: ("deals", "companies"), 279: ("contacts", "companies"),
         214: ("notes", "deals")}


# The properties a fresh account has that the connector writes (each object's guide lists
# its default properties); ``followup_key`` is the custom deal property the admin makes.
DEFAULT_PROPERTIES = {
    # Contacts: also "phone" (Phone Number) and "mobilephone" (Mobile Phone Number),
    # https://knowledge.hubspot.com/properties/hubspots-default-contact-properties
    "companies": {"name", "domain"},
    "contacts": {"email", "firstname", "lastname", "phone", "mobilephone"},
    "deals": {"dealname", "pipeline", "dealstage", "hubspot_owner_id", "closedate", "amount"},
    "notes": {"hs_timestamp", "hs_note_body", "hubspot_owner_id"}}


def _iso(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"


def _millis(text: str) -> int:
    if text.isdigit():
        return int(text)
    return int(datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp() * 1000)


class FakeHubSpot:
    def __init__(self, token: str, *, owners=(), burst: int | None = None,
                 retry_after: int | None = 10):
        """``owners``: (email, "First Last") of the account's users."""
        self.token = token
        self.expired = False
        """The token is the one, but HubSpot says it expired (an OAuth access token)."""
        self.objects: dict[str, dict[str, dict]] = {name: {} for name in OBJECTS}
        self.properties = {kind: set(names) for kind, names in DEFAULT_PROPERTIES.items()}
        self.properties["deals"].add("followup_key")
        self.associations: set[tuple[str, str, str, str, int]] = set()
        self.owners: dict[str, dict] = {}
        self._next = 1001
        self._clock = datetime(2026, 11, 26, tzinfo=timezone.utc)
        self.lock = threading.Lock()
        self.burst = burst
        """Requests allowed in the current rolling window (``None``: no limit)."""
        self.retry_after = retry_after
        self.window_used = 0
        self.throttle_next = 0
        """Refuse this many requests with 429 (a burst other apps of the account spent)."""
        self.outage: int | None = None
        """Answer every request with this 5xx status (HubSpot down)."""
        self.failing: dict[str, int] = {}
        """Answer the requests whose path starts with a key with its status: a 5xx (one
        endpoint failing, HubSpot's own error) or a 400 (HubSpot refusing the request)."""
        self.refused = 0
        self.calls: list[str] = []
        self.delay = 0.0  # seconds each call takes (a kill -9 test needs time to aim)
        for email, name in owners:
            self.add_owner(email, *(name.split(" ", 1) + [""])[:2])
        self.server = Server(type("Handler", (_Handler,), {"hubspot": self})).start()
        self.url = self.server.url

    def stop(self) -> None:
        self.server.stop()

    def new_window(self) -> None:
        """The rolling window moved on: the burst allowance is whole again."""
        self.window_used = 0

    def _now(self) -> str:
        self._clock += timedelta(milliseconds=7)  # strictly increasing, as HubSpot's stamps
        return _iso(self._clock)

    def _id(self) -> str:
        self._next += 1
        return str(self._next)

    def add_owner(self, email: str, first: str, last: str) -> str:
        """A HubSpot user (owners guide: ``id`` assigns ownership, ``userId`` is the user)."""
        oid = self._id()
        stamp = self._now()
        self.owners[oid] = {"id": oid, "email": email, "type": "PERSON", "firstName": first,
                            "lastName": last, "userId": int(oid) + 5000, "createdAt": stamp,
                            "updatedAt": stamp, "archived": False, "teams": []}
        return oid

    # -- records ----------------------------------------------------------------------------

    def _check_properties(self, kind: str, properties: dict) -> None:
        unknown = sorted(set(properties) - self.properties[kind])
        if unknown:
            raise UnknownProperty(unknown)

    def create(self, kind: str, properties: dict, associations: list | None = None) -> dict:
        # Objects guide: the record comes back with its id, its properties (with
        # hs_object_id, createdate, hs_lastmodifieddate) and createdAt / updatedAt.
        self._check_properties(kind, properties)
        rid = self._id()
        stamp = self._now()
        values = {k: (None if v is None else str(v)) for k, v in properties.items()}
        values.update(hs_object_id=rid, createdate=stamp, hs_lastmodifieddate=stamp)
        if kind == "contacts":
            values["lastmodifieddate"] = stamp
        record = {"id": rid, "properties": values, "createdAt": stamp, "updatedAt": stamp,
                  "archived": False}
        self.objects[kind][rid] = record
        for link in associations or []:
            to_id = str(link["to"]["id"])
            for spec in link["types"]:
                type_id = int(spec["associationTypeId"])
                ends = TYPES.get(type_id)
                if ends is None or ends[0] != kind or to_id not in self.objects[ends[1]]:
                    raise ValueError(f"association type {type_id} from {kind} to {to_id}")
                self.associations.add((kind, rid, ends[1], to_id, type_id))
        return record

    def update(self, kind: str, rid: str, properties: dict) -> dict:
        record = self.objects[kind][rid]
        self._check_properties(kind, properties)
        stamp = self._now()
        record["properties"].update({k: (None if v is None else str(v)) for k, v in properties.items()})
        record["properties"]["hs_lastmodifieddate"] = stamp
        record["updatedAt"] = stamp
        return record

    def associated(self, kind: str, rid: str, other: str) -> set[str]:
        out = set()
        for a_kind, a_id, b_kind, b_id, _ in self.associations:
            if (a_kind, a_id, b_kind) == (kind, rid, other):
                out.add(b_id)
            if (b_kind, b_id, a_kind) == (kind, rid, other):
                out.add(a_id)
        return out

    def _matches(self, kind: str, record: dict, flt: dict) -> bool:
        # Search page, "Filter search results": operators EQ, NEQ, GT, GTE, LT, LTE, IN,
        # HAS_PROPERTY, NOT_HAS_PROPERTY, CONTAINS_TOKEN; string values are compared
        # case-insensitively; date properties accept epoch milliseconds.
        name, op = flt["propertyName"], flt["operator"]
        if name.startswith("associations."):
            other = next(k for k, v in SINGULAR.items() if v == name.split(".", 1)[1])
            return op == "EQ" and str(flt["value"]) in self.associated(kind, record["id"], other)
        have = record["properties"].get(name)
        if op == "HAS_PROPERTY":
            return have not in (None, "")
        if op == "NOT_HAS_PROPERTY":
            return have in (None, "")
        if have is None:
            return False
        if op in ("IN", "NOT_IN"):
            # Search page: IN / NOT_IN take a "values" list, matched exactly (string values
            # in lower case, as the page asks).
            inside = have.lower() in [str(v) for v in flt.get("values") or []]
            return inside if op == "IN" else not inside
        value = str(flt.get("value", ""))
        if op in ("EQ", "NEQ"):
            same = have.lower() == value.lower()
            return same if op == "EQ" else not same
        if op == "CONTAINS_TOKEN":
            return value.lower().strip("*") in have.lower()
        if name in ("hs_lastmodifieddate", "createdate", "lastmodifieddate", "hs_timestamp"):
            have_n, value_n = _millis(have), _millis(value)
        else:
            have_n, value_n = float(have), float(value)
        return {"GT": have_n > value_n, "GTE": have_n >= value_n, "LT": have_n < value_n,
                "LTE": have_n <= value_n}[op]

    def search(self, kind: str, request: dict) -> dict:
        # Search page: filterGroups are ORed, the filters in a group ANDed; "limit" at most
        # 200; "after" the paging offset; only the properties asked for (plus hs_object_id,
        # createdate, hs_lastmodifieddate) come back; results past "after" in "paging.next".
        groups = request.get("filterGroups") or [{"filters": []}]
        found = [r for r in self.objects[kind].values()
                 if any(all(self._matches(kind, r, f) for f in g.get("filters", [])) for g in groups)]
        for sort in reversed(request.get("sorts") or []):
            prop = sort["propertyName"]
            found.sort(key=lambda r: r["properties"].get(prop) or "",
                       reverse=sort.get("direction") == "DESCENDING")
        if not request.get("sorts"):
            found.sort(key=lambda r: int(r["id"]))
        limit = min(int(request.get("limit") or 10), 200)
        start = int(request.get("after") or 0)
        page = found[start:start + limit]
        wanted = set(request.get("properties") or []) | {"hs_object_id", "createdate", "hs_lastmodifieddate"}
        results = [{**r, "properties": {k: r["properties"].get(k) for k in sorted(wanted)}} for r in page]
        answer = {"total": len(found), "results": results}
        if start + limit < len(found):
            answer["paging"] = {"next": {"after": str(start + limit)}}
        return answer


class UnknownProperty(ValueError):
    """A write named a property the account does not have."""

    def __init__(self, names: list[str]):
        super().__init__(names)
        self.names = names

    def body(self) -> dict:
        # A 400 VALIDATION_ERROR whose message lists each refused property as
        # {"isValid": false, "message", "error", "name"} -- the shape in
        # https://developers.hubspot.com/changelog/upcoming-property-validations-rules-will-be-enforced-for-apis-and-integrations
        # with the PROPERTY_DOESNT_EXIST error.
        detail = [{"isValid": False, "message": f'Property "{n}" does not exist',
                   "error": "PROPERTY_DOESNT_EXIST", "name": n} for n in self.names]
        return _error(400, "Property values were not valid: " + json.dumps(detail, separators=(",", ":")),
                      "VALIDATION_ERROR")


def _error(status: int, message: str, category: str, **extra) -> dict:
    # Usage details / error handling: {"status": "error", "message", "correlationId", "category"}.
    return {"status": "error", "message": message, "correlationId": str(uuid.uuid4()),
            "category": category, **extra}


class _Handler(QuietHandler):
    hubspot: FakeHubSpot

    def _answer(self, status: int, document, headers: dict | None = None) -> None:
        try:
            self.send(status, document, headers=headers, content_type="application/json;charset=utf-8")
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client was killed (the kill -9 test)

    def _gate(self) -> bool:
        """Rate limit, then authentication; ``False`` when answered already."""
        hub = self.hubspot
        path = urlsplit(self.path).path
        status = hub.outage or next((s for p, s in hub.failing.items() if path.startswith(p)), None)
        if status:
            # Error handling: a 5xx is HubSpot's own failure, to retry later; a 400 a
            # VALIDATION_ERROR refusing the request.
            self._answer(status, _error(status, "internal error", "INTERNAL_ERROR") if status >= 500
                         else _error(status, "Invalid input JSON on line 1", "VALIDATION_ERROR"))
            return False
        if hub.burst is not None or hub.throttle_next:
            if hub.throttle_next or hub.window_used >= (hub.burst or 0):
                hub.throttle_next = max(hub.throttle_next - 1, 0)
                hub.refused += 1
                # Usage details, "Rate limits": a request over the burst limit gets 429
                # with the X-HubSpot-RateLimit-* headers (Interval-Milliseconds, Max,
                # Remaining) and a RATE_LIMIT body naming the policy; Retry-After (RFC
                # 9110 section 10.2.3) says when to come back.
                headers = {"X-HubSpot-RateLimit-Interval-Milliseconds": "10000",
                           "X-HubSpot-RateLimit-Max": str(hub.burst or 100),
                           "X-HubSpot-RateLimit-Remaining": "0"}
                if hub.retry_after is not None:
                    headers["Retry-After"] = str(hub.retry_after)
                self._answer(429, {"status": "error", "message": "You have reached your ten_secondly_rolling limit.",
                                   "errorType": "RATE_LIMIT", "correlationId": str(uuid.uuid4()),
                                   "policyName": "TEN_SECONDLY_ROLLING"}, headers)
                return False
            hub.window_used += 1
        if self.headers.get("Authorization") != f"Bearer {hub.token}":
            self._answer(401, _error(401, "Authentication credentials not found. This API supports "
                                     "OAuth 2.0 authentication and you can find more details at "
                                     "https://developers.hubspot.com/docs/methods/auth/oauth-overview",
                                     "INVALID_AUTHENTICATION"))
            return False
        if hub.expired:
            self._answer(401, _error(401, "The OAuth token used to make this call expired 3 minute(s) ago.",
                                     "EXPIRED_AUTHENTICATION"))
            return False
        return True

    def _route(self, method: str) -> None:
        hub = self.hubspot
        url = urlsplit(self.path)
        parts = url.path.strip("/").split("/")
        query = {k: ",".join(v) for k, v in parse_qs(url.query).items()}  # ?properties=a&properties=b
        body = json.loads(self.body() or b"{}") if method in ("POST", "PATCH") else {}
        with hub.lock:
            if not self._gate():
                return
            hub.calls.append(f"{method} {url.path}")
            if hub.delay:
                time.sleep(hub.delay)
            try:
                status, answer = self._dispatch(method, parts, query, body)
            except UnknownProperty as exc:
                status, answer = 400, exc.body()
            except ValueError as exc:
                status, answer = 400, _error(400, str(exc), "VALIDATION_ERROR")
        self._answer(status, answer)

    def _dispatch(self, method: str, parts: list[str], query: dict, body: dict):
        hub = self.hubspot
        if parts[:3] == ["crm", "v3", "owners"]:
            # Owners guide: GET /crm/v3/owners (?email= filters, ?limit, ?after) and
            # GET /crm/v3/owners/{ownerId}.
            if len(parts) == 4 and parts[3]:
                owner = hub.owners.get(parts[3])
                return (200, owner) if owner else (404, _error(404, "Owner not found", "OBJECT_NOT_FOUND"))
            owners = [o for o in hub.owners.values()
                      if not query.get("email") or o["email"].lower() == query["email"].lower()]
            limit = int(query.get("limit") or 100)
            start = int(query.get("after") or 0)
            answer = {"results": owners[start:start + limit]}
            if start + limit < len(owners):
                answer["paging"] = {"next": {"after": str(start + limit)}}
            return 200, answer
        if len(parts) < 4 or parts[:3] != ["crm", "v3", "objects"] or parts[3] not in OBJECTS:
            return 404, _error(404, "Resource not found", "OBJECT_NOT_FOUND")
        kind = parts[3]
        if len(parts) == 5 and parts[4] == "search" and method == "POST":
            return 200, hub.search(kind, body)
        if len(parts) == 4 and method == "POST":
            # Objects guide, "Create records": POST with "properties" and "associations"
            # -> 201 with the record. Deals need "pipeline" and "dealstage" (deals guide).
            properties = body.get("properties") or {}
            if kind == "deals" and not (properties.get("pipeline") and properties.get("dealstage")):
                raise ValueError("deals need pipeline and dealstage")
            if kind == "notes" and not properties.get("hs_timestamp"):
                raise ValueError("notes need hs_timestamp")  # notes guide: hs_timestamp is required
            return 201, hub.create(kind, properties, body.get("associations"))
        if len(parts) == 5:
            record = hub.objects[kind].get(parts[4])
            if record is None:
                return 404, _error(404, f"Object not found.  objectId are usually numeric.", "OBJECT_NOT_FOUND")
            if method == "GET":
                # Objects guide, "Retrieve records": ?properties= names what comes back.
                wanted = set(filter(None, (query.get("properties") or "").split(","))) | {
                    "hs_object_id", "createdate", "hs_lastmodifieddate"}
                return 200, {**record, "properties": {k: record["properties"].get(k) for k in sorted(wanted)}}
            if method == "PATCH":
                # Objects guide, "Update records": PATCH with "properties" -> 200.
                return 200, hub.update(kind, parts[4], body.get("properties") or {})
        return 405, _error(405, "Method not allowed", "VALIDATION_ERROR")

    def do_GET(self):  # noqa: N802
        self._route("GET")

    def do_POST(self):  # noqa: N802
        self._route("POST")

    def do_PATCH(self):  # noqa: N802
        self._route("PATCH")
