"""HubSpot CRM over its v3 objects API, with HubSpot's own client (``hubspot-api-client``).

A private app's access token (``Authorization: Bearer``) signs every call; the host is
``[crm] url`` (default https://api.hubapi.com), given to the client's ``Configuration.host``.
Pages this follows (the loopback fake, tests/fakes/hubspot.py, cites the same):

- objects: https://developers.hubspot.com/docs/api/crm/understanding-the-crm (create
  ``POST /crm/v3/objects/<type>`` with ``properties`` and ``associations``, read
  ``GET .../<id>``, update ``PATCH .../<id>``);
- search: https://developers.hubspot.com/docs/api/crm/search (``POST .../<type>/search``
  with ``filterGroups``, ``sorts``, ``properties``, ``limit``, ``after``; a filter on
  ``associations.<type>``);
- associations: https://developers.hubspot.com/docs/api-reference/crm-associations-v4/guide
  (the HUBSPOT_DEFINED type ids: deal->contact 3, deal->company 5, contact->company 279,
  note->deal 214), given at creation so a record is never made without them;
- notes: https://developers.hubspot.com/docs/api-reference/crm-notes-v3/guide
  (``hs_timestamp`` required, ``hs_note_body`` at most 65,536 characters);
- owners: https://developers.hubspot.com/docs/api-reference/crm-crm-owners-v3/guide
  (``GET /crm/v3/owners?email=``; the owner's ``id`` is what ``hubspot_owner_id`` takes);
- limits and errors: https://developers.hubspot.com/docs/api/usage-details (429 with
  ``X-HubSpot-RateLimit-*``; a 401 body ``{"status": "error", "message", "correlationId",
  "category"}``). A short 429 (at most ``max_wait`` seconds) is waited out in place, a
  longer one raised as :class:`Throttled` for the outbox.

What Followup writes:

- organisation: a company (``name``, ``domain``), found by ``domain`` (else ``name``);
- person: a contact (``email``, ``firstname``, ``lastname``), found by ``email``, made
  associated with its company;
- deal: ``dealname`` the subject, ``pipeline`` (default ``default``), ``dealstage`` (our
  ``open``; ``[crm.stages]`` maps open/won/lost, default ``appointmentscheduled`` /
  ``closedwon`` / ``closedlost``), ``closedate`` left alone, and the quote's Message-ID in
  the deal property named by ``key_property`` (default ``followup_key``: a single-line
  text property the admin makes once, README), found by a search on it before a create;
  made associated with its contact and company;
- activity: a note (``hs_timestamp`` the touch's time, ``hs_note_body`` starting
  ``[followup <key>]``) associated with the deal; the deal's notes are searched
  (``associations.deal``) before a create;
- owner: ``hubspot_owner_id`` (the owner whose email is the rep's);
- stage: ``dealstage``.

Read back: the deals whose ``hs_lastmodifieddate`` is at or after the cursor (milliseconds
since the epoch) and that carry ``key_property``; ``dealstage`` -> open/won/lost and
``hubspot_owner_id`` -> the owner's email.

Phones (:meth:`HubSpotCRM.contact_phones`): the contacts whose ``email`` is one of the
addresses (a search filter ``IN`` with ``values``, lower case as the search page asks of
string values), their default properties ``phone`` ("Phone Number") and ``mobilephone``
("Mobile Phone Number"; https://knowledge.hubspot.com/properties/hubspots-default-contact-properties).

HubSpot's search index lags its writes by a few seconds (search page, "limitations"): a
rerun within seconds of a crash could miss a deal just made. The outbox reruns no sooner
than its backoff (a minute), and a unique-value ``followup_key`` (README) makes HubSpot
refuse a second deal with the same key.
"""

from __future__ import annotations

import html
import re
import time
from dataclasses import dataclass
from datetime import datetime, timezone

from connectors.crm import (Activity, AuthExpired, Change, Changes, CRMError, Deal,
                            Organisation, Person, Rejected, Throttled, Unavailable,
                            email_batches)

__all__ = ["HubSpotCRM", "DEFAULT_HOST", "DEFAULT_STAGES"]

DEFAULT_HOST = "https://api.hubapi.com"
DEFAULT_STAGES = {"open": "appointmentscheduled", "won": "closedwon", "lost": "closedlost"}
# HUBSPOT_DEFINED association type ids (associations v4 guide, "Association type ids").
DEAL_TO_CONTACT, DEAL_TO_COMPANY, CONTACT_TO_COMPANY, NOTE_TO_DEAL = 3, 5, 279, 214
PAGE = 100
PHONE_PROPERTIES = ("phone", "mobilephone")
"""A contact's default number properties."""
THROTTLE_RETRIES = 3


def _association(to_id: str, type_id: int) -> dict:
    return {"to": {"id": str(to_id)},
            "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": type_id}]}


def _eq(name: str, value) -> dict:
    return {"propertyName": name, "operator": "EQ", "value": str(value)}


def _millis(value) -> int:
    if isinstance(value, datetime):
        when = value
    else:
        when = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return int(when.timestamp() * 1000)


@dataclass(frozen=True)
class _Api:
    basic_api: object
    search_api: object


class HubSpotCRM:
    kind = "hubspot"

    def __init__(self, url: str | None, token: str, *, stages: dict[str, str] | None = None,
                 key_property: str = "followup_key", pipeline: str = "default",
                 timeout: float = 30.0, max_wait: float = 10.0):
        from hubspot import HubSpot

        self.host = (url or DEFAULT_HOST).rstrip("/")
        self.stages = {**DEFAULT_STAGES, **(stages or {})}
        self.key_property = key_property
        self.pipeline = pipeline
        self.timeout = timeout
        self.max_wait = max_wait
        # No urllib3 retry of HTTP statuses: a short 429 is waited out by _call, the rest by
        # the outbox (its backoff, a long 429's Retry-After).
        client = HubSpot(access_token=token, host=self.host)
        crm = client.crm
        # Each of the client's ``*_api`` properties makes a new ApiClient: made once here.
        self._companies, self._contacts, self._deals, self._notes = (
            _Api(d.basic_api, d.search_api) for d in (crm.companies, crm.contacts, crm.deals,
                                                      crm.objects.notes))
        self._owners = crm.owners.owners_api
        self._deals_basic = self._deals.basic_api
        self._owner_ids: dict[str, str | None] = {}
        self._owner_emails: dict[str, str | None] = {}
        self._note_texts: dict[str, list[tuple[str, str]]] = {}

    # -- one call, its errors mapped ---------------------------------------------------

    def _call(self, method, *args, **kwargs):
        """One call; a 429 that asks for at most ``max_wait`` seconds (HubSpot's
        ten-secondly burst, the search endpoints' per-second limit) is waited out here, up
        to ``THROTTLE_RETRIES`` times; a longer one (the daily limit) goes to the outbox."""
        for attempt in range(THROTTLE_RETRIES + 1):
            try:
                return self._once(method, *args, **kwargs)
            except Throttled as exc:
                if attempt == THROTTLE_RETRIES or exc.retry_after is None \
                        or exc.retry_after > self.max_wait:
                    raise
                time.sleep(exc.retry_after)

    def _once(self, method, *args, **kwargs):
        import urllib3

        try:
            return method(*args, _request_timeout=self.timeout, **kwargs)
        except urllib3.exceptions.HTTPError as exc:
            raise Unavailable(f"HubSpot at {self.host} is unreachable ({type(exc).__name__})") from None
        except Exception as exc:  # each API package has its own ApiException class
            status = getattr(exc, "status", None)
            if status is None:
                raise
            raise _mapped(int(status), dict(getattr(exc, "headers", None) or {}),
                          getattr(exc, "body", None), self.host) from None

    def _search(self, api, filters: list[dict], properties: list[str], *,
                sorts: list[dict] | None = None, limit: int = PAGE, every: bool = False) -> list:
        request = {"filterGroups": [{"filters": filters}], "properties": properties,
                   "limit": limit, "sorts": sorts or []}
        found: list = []
        while True:
            page = self._call(api.search_api.do_search, public_object_search_request=request)
            found.extend(page.results or [])
            after = page.paging.next.after if page.paging and page.paging.next else None
            if not every or not after:
                return found
            request = {**request, "after": after}

    def _create(self, api, properties: dict, associations: list[dict] | None = None) -> str:
        body = {"properties": properties, "associations": associations or []}
        made = self._call(api.basic_api.create, simple_public_object_input_for_create=body)
        return str(made.id)

    # -- the protocol ----------------------------------------------------------------------

    def check(self) -> str:
        owners = self._call(self._owners.get_page, limit=PAGE)
        deals = self._search(self._deals, [{"propertyName": self.key_property,
                                            "operator": "HAS_PROPERTY"}], [self.key_property], limit=1)
        return (f"access token accepted at {self.host} ({len(owners.results or [])} owners, "
                f"{'deals with' if deals else 'no deal yet with'} {self.key_property})")

    def upsert_organisation(self, organisation: Organisation) -> str:
        by = _eq("domain", organisation.domain) if organisation.domain else _eq("name", organisation.name)
        found = self._search(self._companies, [by], ["name", "domain"], limit=1)
        if found:
            return str(found[0].id)
        properties = {"name": organisation.name}
        if organisation.domain:
            properties["domain"] = organisation.domain
        return self._create(self._companies, properties)

    def upsert_person(self, person: Person) -> str:
        email = person.email.lower()
        found = self._search(self._contacts, [_eq("email", email)], ["email"], limit=1)
        if found:
            return str(found[0].id)
        properties = {"email": email}
        if person.name:
            first, _, last = person.name.strip().partition(" ")
            properties["firstname"] = first
            if last:
                properties["lastname"] = last
        links = [_association(person.organisation_id, CONTACT_TO_COMPANY)] if person.organisation_id else []
        return self._create(self._contacts, properties, links)

    def upsert_deal(self, deal: Deal) -> str:
        found = self._search(self._deals, [_eq(self.key_property, deal.key)], [self.key_property], limit=1)
        if found:
            return str(found[0].id)
        properties = {"dealname": deal.title, "pipeline": self.pipeline,
                      "dealstage": self.stages["open"], self.key_property: deal.key}
        links = []
        if deal.person_id:
            links.append(_association(deal.person_id, DEAL_TO_CONTACT))
        if deal.organisation_id:
            links.append(_association(deal.organisation_id, DEAL_TO_COMPANY))
        return self._create(self._deals, properties, links)

    def _notes_of(self, deal_id: str) -> list[tuple[str, str]]:
        """The deal's notes as (their text without markup, their id), read once per deal."""
        if deal_id not in self._note_texts:
            self._note_texts[deal_id] = [
                (_text((note.properties or {}).get("hs_note_body") or ""), str(note.id))
                for note in self._search(self._notes, [_eq("associations.deal", deal_id)],
                                         ["hs_note_body"], every=True)]
        return self._note_texts[deal_id]

    def log_activity(self, activity: Activity) -> str:
        tag = f"[followup {activity.key}]"
        notes = self._notes_of(activity.deal_id)
        # Anywhere in the text, not only its first line: HubSpot's editor may rewrap the
        # body's markup, and a Message-ID may hold a "]" (a domain literal).
        found = next((nid for text, nid in notes if tag in text), None)
        if found:
            return found
        when = activity.at.astimezone(timezone.utc)
        head = f"{activity.kind} · {when:%Y-%m-%d %H:%M} UTC" + (f" · {activity.by}" if activity.by else "")
        lines = [tag, head, *activity.summary.splitlines()]
        body = "".join(f"<p>{html.escape(line)}</p>" for line in lines)[:65536]
        properties = {"hs_timestamp": when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z",
                      "hs_note_body": body}
        made = self._create(self._notes, properties, [_association(activity.deal_id, NOTE_TO_DEAL)])
        notes.append((_text(body), made))
        return made

    def _owner_id(self, email: str) -> str | None:
        email = email.lower()
        if email not in self._owner_ids:
            page = self._call(self._owners.get_page, email=email, limit=1)
            owner = next((o for o in page.results or [] if (o.email or "").lower() == email), None)
            self._owner_ids[email] = str(owner.id) if owner else None
            if owner:
                self._owner_emails[str(owner.id)] = email
        return self._owner_ids[email]

    def _update(self, deal_id: str, properties: dict) -> None:
        self._call(self._deals_basic.update, deal_id, simple_public_object_input={"properties": properties})

    def set_owner(self, deal_id: str, email: str) -> bool:
        owner = self._owner_id(email)
        if owner is None:
            return False
        current = self._call(self._deals_basic.get_by_id, deal_id, properties=["hubspot_owner_id"])
        if (current.properties or {}).get("hubspot_owner_id") != owner:
            self._update(deal_id, {"hubspot_owner_id": owner})
        return True

    def set_stage(self, deal_id: str, stage: str) -> None:
        if stage not in self.stages:
            raise Rejected(f"no HubSpot deal stage for the stage {stage!r}")
        current = self._call(self._deals_basic.get_by_id, deal_id, properties=["dealstage"])
        if self._stage((current.properties or {}).get("dealstage")) != stage:
            self._update(deal_id, {"dealstage": self.stages[stage]})

    def _stage(self, dealstage: str | None) -> str:
        for ours in ("won", "lost"):
            if dealstage and dealstage == self.stages[ours]:
                return ours
        return "open"

    def _email_of(self, owner_id: str | None) -> str | None:
        if not owner_id:
            return None
        if owner_id not in self._owner_emails:
            owner = self._call(self._owners.get_by_id, int(owner_id))
            self._owner_emails[owner_id] = (owner.email or "").lower() or None
        return self._owner_emails[owner_id]

    def changes_since(self, cursor: str | None) -> Changes:
        # GTE, not GT: two deals changed in the same millisecond are both read again (a
        # change read twice is harmless, the service compares it with what it wrote).
        filters = [{"propertyName": self.key_property, "operator": "HAS_PROPERTY"}]
        if cursor:
            filters.append({"propertyName": "hs_lastmodifieddate", "operator": "GTE", "value": cursor})
        deals = self._search(self._deals, filters,
                             [self.key_property, "dealstage", "hubspot_owner_id", "hs_lastmodifieddate"],
                             sorts=[{"propertyName": "hs_lastmodifieddate", "direction": "ASCENDING"}],
                             every=True)
        latest = int(cursor) if cursor else None
        out = []
        for deal in deals:
            p = deal.properties or {}
            if p.get("hs_lastmodifieddate"):
                stamp = _millis(p["hs_lastmodifieddate"])
                latest = stamp if latest is None else max(latest, stamp)
            out.append(Change(str(deal.id), p.get(self.key_property) or None,
                              self._stage(p.get("dealstage")), self._email_of(p.get("hubspot_owner_id"))))
        return Changes(out, str(latest) if latest is not None else None)

    def contact_phones(self, emails) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for batch in email_batches(emails):
            found = self._search(self._contacts, [{"propertyName": "email", "operator": "IN",
                                                   "values": batch}],
                                 ["email", *PHONE_PROPERTIES], every=True)
            for contact in found:
                p = contact.properties or {}
                email = (p.get("email") or "").strip().lower()
                if email not in batch:
                    continue
                for name in PHONE_PROPERTIES:
                    number = (p.get(name) or "").strip()
                    if number and number not in out.get(email, []):
                        out.setdefault(email, []).append(number)
        return out

    def close(self) -> None:
        pass


def _text(body: str) -> str:
    """A note body's text: its markup dropped, its entities read."""
    return html.unescape(re.sub(r"<[^>]+>", "\n", body))


def _mapped(status: int, headers: dict, body, host: str) -> CRMError:
    """HubSpot's answer -> the interface's error tree (never the token in a message)."""
    import json

    try:
        document = json.loads(body) if body else {}
    except (TypeError, ValueError):
        document = {}
    message = str(document.get("message") or "")[:400] if isinstance(document, dict) else ""
    category = document.get("category") if isinstance(document, dict) else None
    if status in (401, 403):
        what = "the access token has expired" if category == "EXPIRED_AUTHENTICATION" else \
            "the private app's access token" + (" lacks a scope" if status == 403 else " was refused")
        return AuthExpired(f"HubSpot refused {what} (HTTP {status}{', ' + category if category else ''}): "
                           "re-authenticate")
    if status == 429:
        return Throttled(f"HubSpot is rate-limiting us (HTTP 429{': ' + message if message else ''})",
                         _retry_after(headers))
    if status == 0 or status >= 500:
        return Unavailable(f"HubSpot at {host} answered HTTP {status}" if status else
                           f"HubSpot at {host} is unreachable")
    missing = re.findall(r'"error":"PROPERTY_DOESNT_EXIST","name":"([^"]+)"', message)
    if missing:
        return Rejected(f"HubSpot has no property {', '.join(missing)}: create it (Settings > "
                        "Properties, single-line text; README, HubSpot set-up step 2)")
    return Rejected(f"HubSpot refused the call (HTTP {status}): {message}")


def _retry_after(headers: dict) -> float | None:
    """``Retry-After`` seconds, else the rolling window's length when none is left
    (``X-HubSpot-RateLimit-Remaining: 0``, ``X-HubSpot-RateLimit-Interval-Milliseconds``)."""
    lower = {str(k).lower(): str(v) for k, v in headers.items()}
    after = lower.get("retry-after", "")
    if after.isdigit():
        return float(after)
    interval = lower.get("x-hubspot-ratelimit-interval-milliseconds", "")
    if lower.get("x-hubspot-ratelimit-remaining") == "0" and interval.isdigit():
        return int(interval) / 1000
    return None
