"""First-sync cost (issue 13 point 4): ``sync_days`` bounds a first sync, a Gmail resync
after an expired history id downloads no stored message again, Graph downloads no MIME
of a stored message; requests counted at the fakes."""

from __future__ import annotations

import email.utils
import time
from email.message import EmailMessage

import pytest

from connectors._cloud import Backoff
from connectors.gmail import GmailConnector
from connectors.outlook import OutlookConnector
from tests.test_cloud_connectors import engine, Provider, counts, sync  # noqa: F401 (fixture)

DAY = 86400
DOWNLOADS = {"gmail": r"GET /gmail/v1/users/me/messages/[0-9a-f]+\?.*format=raw",
             "outlook": r"/\$value"}


def aged(n: int, days: float) -> bytes:
    m = EmailMessage()
    m["From"] = "cliente@nuevo.example"
    m["To"] = "camila@andina.example"
    m["Subject"] = f"Pedido {n}"
    m["Date"] = email.utils.formatdate(time.time() - days * DAY)
    m["Message-ID"] = f"<aged-{n}@nuevo.example>"
    m.set_content(f"Pedido número {n}.")
    return bytes(m)


@pytest.fixture(params=["gmail", "outlook"])
def empty(request, tmp_path, monkeypatch):
    p = Provider(request.param, tmp_path, monkeypatch, maildir=None)
    yield p
    p.fake.stop()


def connector(p: Provider, **options):
    backoff = Backoff(tries=4, base=0.01, max_delay=1.0, sleep=p.sleeps.append)
    if p.kind == "gmail":
        return GmailConnector(p.token, root_url=p.fake.url, backoff=backoff, page_size=5, **options)
    return OutlookConnector(p.token, base_url=p.fake.url, backoff=backoff, page_size=5, **options)


def test_sync_days_bounds_the_first_sync_and_later_syncs_read_everything_new(empty, engine):
    for n, days in enumerate([1, 30, 179, 181, 400, 2000]):
        empty.fake.add_message(aged(n, days))
    assert sync(engine, connector(empty, sync_days=180)).stored == 3
    assert empty.fake.requests(DOWNLOADS[empty.kind]) == 3  # the old ones not even downloaded
    empty.fake.add_message(aged(10, 0))
    assert sync(engine, connector(empty, sync_days=180)).stored == 1
    assert sync(engine, connector(empty, sync_days=0)).stored == 0  # 0: no window, nothing new


def test_a_gmail_resync_after_history_expiry_downloads_no_stored_message(tmp_path, monkeypatch, engine):
    p = Provider("gmail", tmp_path, monkeypatch, maildir=None)
    try:
        for n in range(40):
            p.fake.add_message(aged(n, n))
        assert sync(engine, connector(p)).stored == 40
        first = p.fake.requests(DOWNLOADS["gmail"])
        assert first == 40
        p.fake.add_message(aged(99, 0))
        p.fake.expire_history()
        assert sync(engine, connector(p)).stored == 1
        assert p.fake.requests(DOWNLOADS["gmail"]) - first == 1  # only the new one
        assert counts(engine) == (41, 41)
    finally:
        p.fake.stop()


def test_graph_rereads_after_410_without_downloading_stored_messages(tmp_path, monkeypatch, engine):
    p = Provider("outlook", tmp_path, monkeypatch, maildir=None)
    try:
        for n in range(12):
            p.fake.add_message(aged(n, n), "inbox" if n % 2 else "inbox/Clientes")
        assert sync(engine, connector(p)).stored == 12
        p.fake.expire_delta()
        before = p.fake.requests(DOWNLOADS["outlook"])
        assert sync(engine, connector(p)).stored == 0
        assert p.fake.requests(DOWNLOADS["outlook"]) == before
    finally:
        p.fake.stop()


def test_sync_days_is_an_account_setting_with_a_180_day_default(basic_team, tmp_path):
    from assistant.settings import load_settings
    from assistant.settings.schema import SettingsError

    path = basic_team / "settings.toml"
    text = path.read_text(encoding="utf-8")
    token = tmp_path / "t.json"
    token.write_text("{}")

    def with_gmail(extra: str) -> None:
        path.write_text(text.replace('kind = "maildir"\npath = "mail/camila"',
                                     f'kind = "gmail"\noauth = "{token}"{extra}'), encoding="utf-8")

    with_gmail("")
    assert load_settings(path).account("camila").sync_days == 180
    with_gmail("\nsync_days = 0")
    assert load_settings(path).account("camila").sync_days == 0
    with_gmail("\nsync_days = -1")
    with pytest.raises(SettingsError, match="sync_days"):
        load_settings(path)
