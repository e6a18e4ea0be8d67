"""Gmail's usage limits as Google documents them (handle-errors, quota, batch guides):
403 reasons sorted by what the user does next, per-part limits inside batch requests,
429 with its wait in the message, the 100-call batch cap. Driven by
google-api-python-client against the loopback fake, a real SQLite database."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from connectors._cloud import Backoff
from connectors.base import AuthenticationError, ConfigurationError, TransientError
from connectors.gmail import QUOTA_WINDOW, GmailConnector
from tests.test_cloud_connectors import engine, Provider, counts, new_mail, sync  # noqa: F401 (fixture)

LIST = r"GET /gmail/v1/users/me/messages\?"
PART = r"GET /gmail/v1/users/me/messages/[0-9a-f]+\?format=raw"


@pytest.fixture
def gmail(tmp_path, monkeypatch):
    p = Provider("gmail", tmp_path, monkeypatch)
    yield p
    p.fake.stop()


def connector(p: Provider, *, batch_size: int = 25, max_delay: float = 120.0) -> GmailConnector:
    backoff = Backoff(tries=6, base=0.01, max_delay=max_delay, sleep=p.sleeps.append)
    return GmailConnector(p.token, root_url=p.fake.url, account="ana", backoff=backoff,
                          page_size=3, batch_size=batch_size)


def test_user_rate_limit_mid_sync_waits_out_the_minute_and_loses_nothing(gmail, engine):
    # the second page's list call and two batch parts are over the per-user rate limit
    gmail.fake.usage_limit(r"messages\?.*pageToken=", "userRateLimitExceeded", times=1)
    gmail.fake.usage_limit(PART, "rateLimitExceeded", times=2)
    result = sync(engine, connector(gmail))
    assert result.stored == 8 and counts(engine) == (8, 8)
    assert gmail.sleeps == [QUOTA_WINDOW, QUOTA_WINDOW]  # the per-minute window, twice
    assert gmail.fake.faults.items[0].times == 0 and gmail.fake.faults.items[1].times == 0


def test_a_429_with_retry_after_in_its_message_waits_that_long(gmail, engine):
    when = (datetime.now(timezone.utc) + timedelta(seconds=30)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    gmail.fake.usage_limit(LIST, "rateLimitExceeded", status=429,
                           message=f"User-rate limit exceeded.  Retry after {when}")
    assert sync(engine, connector(gmail)).stored == 8
    assert len(gmail.sleeps) == 1 and 25 <= gmail.sleeps[0] <= 30


@pytest.mark.parametrize("reason, error, status", [
    ("dailyLimitExceeded", TransientError, "retrying"),
    ("domainPolicy", ConfigurationError, "needs_attention"),
    ("insufficientPermissions", AuthenticationError, "needs_reauth"),
    ("forbidden", ConfigurationError, "needs_attention"),
])
def test_403_reasons_are_sorted_by_what_the_user_does_next(gmail, engine, reason, error, status, basic_team):
    gmail.fake.usage_limit(LIST, reason, times=1)
    with pytest.raises(error) as info:
        list(connector(gmail).fetch(None))
    assert gmail.sleeps == []  # none of these is retried now
    if error is not AuthenticationError:
        assert "accounts add" not in str(info.value)  # no "sign in again" for a quota or policy
    # and the account's status says so (the sync service marks it from the error kind)
    from assistant.services.sync import sync as sync_all
    from assistant.settings import load_settings

    settings_path = basic_team / "settings.toml"
    text = settings_path.read_text(encoding="utf-8").replace(
        'kind = "maildir"\npath = "mail/camila"',
        f'kind = "gmail"\noauth = "{gmail.token}"\nhost = "{gmail.fake.url}"\nsync_days = 0')
    settings_path.write_text(text, encoding="utf-8")
    gmail.fake.usage_limit(LIST, reason, times=1)
    results = sync_all(load_settings(settings_path), engine, account="camila")
    assert [r.status for r in results] == [status]


def test_a_batch_part_over_the_limit_halves_the_batch_and_still_reads_everything(gmail, engine):
    gmail.fake.usage_limit(PART, "userRateLimitExceeded", status=429, times=1, retry_after="2")
    c = connector(gmail, batch_size=8)
    ids = [m.id for m in gmail.fake.store.messages]
    found, _ = c._get_many(ids)
    assert [m["id"] for m in found] == ids  # in order, nothing lost
    assert c.batch_size == 5  # 8 halved, floored at the minimum
    assert gmail.sleeps == [2.0]


def test_the_fake_refuses_more_than_100_calls_in_one_batch(gmail):
    for n in range(95):
        gmail.fake.add_message(new_mail(n))
    c = connector(gmail, batch_size=101)
    with pytest.raises(ConfigurationError, match="100"):
        c._get_many([m.id for m in gmail.fake.store.messages])
    found, _ = connector(gmail, batch_size=100)._get_many([m.id for m in gmail.fake.store.messages])
    assert len(found) == 103
