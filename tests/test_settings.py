"""The settings loader: shipped examples load, every mistake names the key, the file and a fix."""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import pytest

from assistant.settings import (
    DEFAULT_DECLINE_PHRASES, DEFAULT_EXCLUDE_PHRASES, DEFAULT_HOLDING_PHRASES,
    DEFAULT_PUBLIC_DOMAINS, DEFAULT_QUOTE_KEYWORDS, DEFAULT_QUOTE_PHRASES, DEFAULT_REQUEST_PHRASES,
    Settings, SettingsError, load_settings,
)

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"

BASE = '''
[company]
name = "Acme"
domains = ["Acme.Example"]

[team]
timezone = "America/Mexico_City"

[[team.members]]
email = "Ana@Acme.Example"
name = "Ana Pérez"
role = "account_executive"
manager = "marta@acme.example"

[[team.members]]
email = "marta@acme.example"
name = "Marta Gómez"
role = "manager"

[[accounts]]
name = "ana"
kind = "maildir"
path = "mail/ana"
owner = "ana@acme.example"

[protocol]
holidays_country = "MX"

[[protocol.steps]]
after_days = 2
channel = "email"
template = "followup_1"

[[protocol.steps]]
after_days = 3
channel = "phone"
template = "call_1"
'''

IMAP = '''
[[accounts]]
name = "shared"
kind = "imap"
host = "imap.acme.example"
username = "ventas@acme.example"
password_env = "FOLLOWUP_IMAP_PASSWORD"
'''


def write(tmp_path: Path, text: str, name: str = "settings.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def edited(old: str, new: str, base: str = BASE) -> str:
    assert old in base, old
    return base.replace(old, new, 1)


def load_error(tmp_path: Path, text: str) -> SettingsError:
    path = write(tmp_path, text)
    with pytest.raises(SettingsError) as info:
        load_settings(path, environ={})
    err = info.value
    message = str(err)
    assert err.file == path
    assert str(path) in message, message
    assert "Fix: " in message and err.fix, message
    if err.key:
        assert f": {err.key}: " in message, message
    return err


# -- files that must load ----------------------------------------------------------

def test_root_settings_loads_with_the_five_step_protocol():
    s = load_settings(ROOT / "settings.toml", environ={})
    assert isinstance(s, Settings)
    assert s.path == (ROOT / "settings.toml").resolve()
    assert [(st.after_days, st.channel, st.template) for st in s.protocol.steps] == [
        (2, "email", "followup_1"), (3, "phone", "call_1"), (4, "email", "followup_2"),
        (5, "whatsapp", "whatsapp_1"), (7, "email", "followup_3"),
    ]
    roles = sorted(m.role for m in s.team.members)
    assert roles == ["account_executive", "account_executive", "manager", "sdr"]
    assert all(a.kind == "maildir" and a.path.parent == ROOT / "mail" for a in s.accounts)
    assert s.storage.url == f"sqlite:///{ROOT / 'followup.db'}"
    assert s.protocol.auto_send is False


def test_basic_team_example_loads(tmp_path):
    path = tmp_path / "settings.toml"
    shutil.copy(FIXTURES / "basic-team-settings.toml", path)
    s = load_settings(path, environ={})
    assert s.company.domains == ("andina.example",)
    assert s.team.timezone == "America/Bogota"
    assert s.protocol.holidays_country == "CO"
    assert [st.after_days for st in s.protocol.steps] == [3, 2, 5]
    assert s.team.member("camila@andina.example").manager == "jorge@andina.example"
    assert s.account("jorge").path == tmp_path / "mail" / "jorge"
    assert s.storage.url == f"sqlite:///{tmp_path / 'followup.db'}"


def test_defaults_and_normalisation(tmp_path):
    s = load_settings(write(tmp_path, BASE), environ={})
    assert s.company.domains == ("acme.example",)
    assert s.team.members[0].email == "ana@acme.example"
    assert s.protocol.send_window_start == "09:00"
    assert s.protocol.responsible_role == "owner"
    assert s.protocol.auto_send is False
    assert s.protocol.quiet_days == 3
    assert s.detection.quote_keywords == DEFAULT_QUOTE_KEYWORDS
    assert s.detection.quote_phrases == DEFAULT_QUOTE_PHRASES
    assert s.detection.decline_phrases == DEFAULT_DECLINE_PHRASES
    assert (s.digest.weekday, s.digest.time) == ("monday", "08:00")
    assert s.storage.url == f"sqlite:///{tmp_path / 'followup.db'}"


def test_helpers(tmp_path):
    s = load_settings(write(tmp_path, BASE + IMAP), environ={})
    assert s.is_internal("Someone <boss@ACME.example>")
    assert s.is_internal("ana@acme.example")
    assert not s.is_internal("cliente@example.com")
    assert not s.is_internal("")
    assert s.member("ANA@acme.example").name == "Ana Pérez"
    assert s.team.member("nobody@acme.example") is None
    assert [m.email for m in s.team.reports_of("marta@acme.example")] == ["ana@acme.example"]
    assert s.protocol.step(2).channel == "phone"
    assert s.protocol.step(3) is None
    assert s.accounts_of("ana@acme.example") == (s.account("ana"),)
    imap = s.account("shared")
    assert (imap.port, imap.tls, imap.owner) == (993, "ssl", None)
    assert s.storage.sqlite_path == tmp_path / "followup.db"


def test_external_member_is_internal(tmp_path):
    text = BASE + '''
[[team.members]]
email = "freelance@gmail.com"
name = "Pat"
role = "sdr"
'''
    s = load_settings(write(tmp_path, text), environ={})
    assert s.is_internal("freelance@gmail.com")
    assert not s.is_internal("other@gmail.com")


def test_settings_are_frozen(tmp_path):
    s = load_settings(write(tmp_path, BASE), environ={})
    with pytest.raises(dataclasses.FrozenInstanceError):
        s.protocol = None
    with pytest.raises(dataclasses.FrozenInstanceError):
        s.protocol.steps[0].after_days = 9
    with pytest.raises(dataclasses.FrozenInstanceError):
        s.team.members[0].email = "x@acme.example"
    assert isinstance(s.protocol.steps, tuple) and isinstance(s.company.domains, tuple)


# -- where the file and the database are ----------------------------------------

def test_relative_paths_resolve_against_the_settings_folder(tmp_path, monkeypatch):
    conf = tmp_path / "conf"
    conf.mkdir()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    text = BASE + '''
[[accounts]]
name = "archive"
kind = "mbox"
path = "/var/mail/archive.mbox"

[storage]
url = "sqlite:///data/followup.db"
'''
    s = load_settings(write(conf, text), environ={})
    assert s.account("ana").path == conf / "mail" / "ana"
    assert s.account("archive").path == Path("/var/mail/archive.mbox")
    assert s.storage.url == f"sqlite:///{conf / 'data' / 'followup.db'}"
    assert s.storage.sqlite_path == conf / "data" / "followup.db"


@pytest.mark.parametrize("url", [
    "sqlite:////srv/followup/followup.db", "sqlite://", "sqlite:///:memory:",
    "postgresql+psycopg://followup@db.acme.example/followup",
])
def test_storage_urls_that_stay_as_written(tmp_path, url):
    s = load_settings(write(tmp_path, BASE + f'[storage]\nurl = "{url}"\n'), environ={})
    assert s.storage.url == url


def test_sqlite_url_query_is_kept(tmp_path):
    s = load_settings(write(tmp_path, BASE + '[storage]\nurl = "sqlite:///f.db?timeout=5"\n'), environ={})
    assert s.storage.url == f"sqlite:///{tmp_path / 'f.db'}?timeout=5"


def test_database_url_from_environment_overrides(tmp_path):
    path = write(tmp_path, BASE + '[storage]\nurl = "sqlite:///followup.db"\n')
    s = load_settings(path, environ={"FOLLOWUP_DATABASE_URL": "sqlite:///other.db"})
    assert s.storage.url == "sqlite:///other.db"  # not resolved against the file
    s = load_settings(path, environ={"FOLLOWUP_DATABASE_URL": "postgresql+psycopg://u@h/db"})
    assert s.storage.url == "postgresql+psycopg://u@h/db"


def test_followup_config_is_the_default_path(tmp_path, monkeypatch):
    path = write(tmp_path, BASE, name="team.toml")
    monkeypatch.chdir(tmp_path)
    s = load_settings(environ={"FOLLOWUP_CONFIG": str(path)})
    assert s.path == path.resolve()


def test_settings_toml_in_the_current_folder_is_the_last_default(tmp_path, monkeypatch):
    write(tmp_path, edited('name = "Acme"', 'name = "Here"'))
    monkeypatch.chdir(tmp_path)
    assert load_settings(environ={}).company.name == "Here"


def test_missing_file_says_run_init(tmp_path):
    missing = tmp_path / "nope.toml"
    with pytest.raises(SettingsError) as info:
        load_settings(missing, environ={})
    assert "followup init" in str(info.value)
    assert str(missing) in str(info.value)


def test_missing_default_file_says_run_init(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SettingsError) as info:
        load_settings(environ={})
    assert str(info.value).startswith("settings.toml: ")
    assert "followup init" in info.value.fix


def test_invalid_toml_names_the_line(tmp_path):
    text = edited('holidays_country = "MX"', "holidays_country = MX")
    err = load_error(tmp_path, text)
    line = text.splitlines().index("holidays_country = MX") + 1
    assert f"line {line}" in str(err)


# -- one test per validation error ------------------------------------------------

def test_message_format(tmp_path):
    err = load_error(tmp_path, edited("after_days = 3", 'after_days = "two"'))
    path = tmp_path / "settings.toml"
    assert str(err) == (f'{path}: protocol.steps[2].after_days: expected a whole number of '
                        f'business days, got "two". Fix: write after_days = 2.')
    assert err.key == "protocol.steps[2].after_days"


@pytest.mark.parametrize("old,new,key,in_fix", [
    ("timezone =", "timezon =", "team.timezon", "`timezone`"),
    ("[company]", "[compnay]", "compnay", "`company`"),
    ('role = "manager"', 'rol = "manager"', "team.members[2].rol", "`role`"),
    ('template = "call_1"', 'templat = "call_1"', "protocol.steps[2].templat", "`template`"),
    ('path = "mail/ana"', 'path = "mail/ana"\ncolour = "red"', "accounts[1].colour", "remove it"),
])
def test_unknown_keys_suggest_the_closest(tmp_path, old, new, key, in_fix):
    err = load_error(tmp_path, edited(old, new))
    assert err.key == key
    assert in_fix in err.fix


@pytest.mark.parametrize("secret", ["password", "token", "secret", "api_token"])
def test_secrets_are_refused(tmp_path, secret):
    err = load_error(tmp_path, BASE + IMAP + f'{secret} = "hunter2"\n')
    assert err.key == f"accounts[2].{secret}"
    assert "password_env" in err.fix and "environment variable" in err.fix
    assert "hunter2" not in str(err)


@pytest.mark.parametrize("old,new,key,in_fix", [
    ('name = "Acme"\n', "", "company.name", 'name = "Acme"'),
    ('domains = ["Acme.Example"]\n', "", "company.domains", "domains ="),
    ('timezone = "America/Mexico_City"\n', "", "team.timezone", "timezone ="),
    ('holidays_country = "MX"\n', "", "protocol.holidays_country", "holidays_country ="),
    ('template = "followup_1"\n', "", "protocol.steps[1].template", "template ="),
    ('kind = "maildir"\n', "", "accounts[1].kind", "kind ="),
    ('path = "mail/ana"\n', "", "accounts[1].path", "path ="),
])
def test_required_keys(tmp_path, old, new, key, in_fix):
    err = load_error(tmp_path, edited(old, new))
    assert err.key == key
    assert in_fix in err.fix


def test_required_sections(tmp_path):
    start = BASE.index("[protocol]")
    err = load_error(tmp_path, BASE[:start])
    assert err.key == "protocol" and "[protocol]" in err.fix
    no_accounts = BASE.replace('[[accounts]]\nname = "ana"\nkind = "maildir"\npath = "mail/ana"\n'
                               'owner = "ana@acme.example"\n', "")
    err = load_error(tmp_path, no_accounts)
    assert err.key == "accounts" and "[[accounts]]" in err.fix


def test_no_steps(tmp_path):
    err = load_error(tmp_path, BASE[:BASE.index("[[protocol.steps]]")] + "steps = []\n")
    assert err.key == "protocol.steps"
    assert "[[protocol.steps]]" in err.fix


def test_members_written_as_a_single_table(tmp_path):
    text = BASE.replace("[[team.members]]", "[team.members]", 1)
    text = text[:text.index("[[team.members]]")] + text[text.index("[[accounts]]"):]
    err = load_error(tmp_path, text.replace('manager = "marta@acme.example"\n', ""))
    assert err.key == "team.members"
    assert "double brackets" in err.fix


@pytest.mark.parametrize("old,new,key,in_fix", [
    ('name = "Acme"', "name = 5", "company.name", 'name = "Acme"'),
    ('domains = ["Acme.Example"]', 'domains = "acme.example"', "company.domains", 'domains = ["acme.example"]'),
    ('domains = ["Acme.Example"]', "domains = []", "company.domains", "domains ="),
    ('domains = ["Acme.Example"]', 'domains = ["@acme.example"]', "company.domains[1]", '"acme.example"'),
    ("after_days = 3", "after_days = true", "protocol.steps[2].after_days", "after_days = 2"),
    ("after_days = 3", "after_days = -1", "protocol.steps[2].after_days", "after_days = 2"),
    ("after_days = 3", "after_days = 2.0", "protocol.steps[2].after_days", "after_days = 2"),
    ("after_days = 3", 'after_days = "3"', "protocol.steps[2].after_days", "after_days = 3"),
    ('channel = "phone"', 'channel = "sms"', "protocol.steps[2].channel", "channel ="),
    ('channel = "phone"', 'channel = "phones"', "protocol.steps[2].channel", '"phone"'),
    ('role = "manager"', 'role = "boss"', "team.members[2].role", "role ="),
    ('kind = "maildir"', 'kind = "pop3"', "accounts[1].kind", "kind ="),
    ('holidays_country = "MX"', 'holidays_country = "Mexico"', "protocol.holidays_country", "holidays_country"),
    ('holidays_country = "MX"', 'holidays_country = "ZZ"', "protocol.holidays_country", '"MX"'),
    ('timezone = "America/Mexico_City"', 'timezone = "America/Mexico_Cty"', "team.timezone", '"America/Mexico_City"'),
    ('timezone = "America/Mexico_City"', 'timezone = "CST"', "team.timezone", "timezone ="),
    # an offset is no place: never "UTC" for "UTC-6" (six hours off)
    ('timezone = "America/Mexico_City"', 'timezone = "UTC-6"', "team.timezone", '"America/Mexico_City"'),
    ('timezone = "America/Mexico_City"', 'timezone = "GMT+05:30"', "team.timezone", "Region/City"),
    ('holidays_country = "MX"', 'holidays_country = "MX"\nsend_window_start = "9am"',
     "protocol.send_window_start", '"09:00"'),
    ('holidays_country = "MX"', 'holidays_country = "MX"\nsend_window_start = "24:00"',
     "protocol.send_window_start", "HH:MM"),
    ('holidays_country = "MX"', 'holidays_country = "MX"\nresponsible_role = "manager"',
     "protocol.responsible_role", "responsible_role ="),
    ('holidays_country = "MX"', 'holidays_country = "MX"\nresponsible_role = "sdr"',
     "protocol.responsible_role", 'role = "sdr"'),
    ('holidays_country = "MX"', 'holidays_country = "MX"\nauto_send = "no"', "protocol.auto_send", "false"),
    ('holidays_country = "MX"', 'holidays_country = "MX"\nquiet_days = "3"', "protocol.quiet_days", "quiet_days = 3"),
    ('email = "Ana@Acme.Example"', 'email = "ana.acme.example"', "team.members[1].email", "email ="),
    ('email = "marta@acme.example"', 'email = "ana@acme.example"', "team.members[2].email", "once"),
    ('manager = "marta@acme.example"', 'manager = "boss@acme.example"', "team.members[1].manager", "[[team.members]]"),
    ('manager = "marta@acme.example"', 'manager = "ana@acme.example"', "team.members[1].manager", "manager"),
    ('role = "manager"', 'role = "manager"\nphone = "call me"', "team.members[2].phone", "+52"),
    ('owner = "ana@acme.example"', 'owner = "luis@acme.example"', "accounts[1].owner", "[[team.members]]"),
    ('path = "mail/ana"', 'path = "mail/ana"\nhost = "imap.acme.example"', "accounts[1].host", "remove host"),
])
def test_wrong_values(tmp_path, old, new, key, in_fix):
    err = load_error(tmp_path, edited(old, new))
    assert err.key == key
    assert in_fix in err.fix, err.fix


def test_a_byte_order_mark_is_read_as_no_text(tmp_path):
    """Windows Notepad saves UTF-8 with a byte-order mark: the same settings."""
    path = tmp_path / "settings.toml"
    path.write_bytes(b"\xef\xbb\xbf" + BASE.encode("utf-8"))
    assert load_settings(path, environ={}).team.timezone == "America/Mexico_City"


def test_digest_values(tmp_path):
    err = load_error(tmp_path, BASE + '[digest]\nweekday = "lunes"\n')
    assert err.key == "digest.weekday" and "weekday =" in err.fix
    err = load_error(tmp_path, BASE + '[digest]\ntime = "8"\n')
    assert err.key == "digest.time" and "HH:MM" in err.fix
    s = load_settings(write(tmp_path, BASE + '[digest]\nweekday = "Friday"\ntime = 07:30:00\n'), environ={})
    assert (s.digest.weekday, s.digest.time) == ("friday", "07:30")


def test_detection_values(tmp_path):
    err = load_error(tmp_path, BASE + '[detection]\nquote_keywords = "cotización"\n')
    assert err.key == "detection.quote_keywords" and '["cotización"]' in err.fix
    err = load_error(tmp_path, BASE + '[detection]\ndecline_phrases = ["ok", 3]\n')
    assert err.key == "detection.decline_phrases[2]"
    err = load_error(tmp_path, BASE + "[detection]\nquote_keywords = []\nquote_phrases = []\n")
    assert err.key == "detection.quote_keywords"
    s = load_settings(write(tmp_path, BASE + '[detection]\nquote_keywords = []\nquote_phrases = ["le envío"]\n'),
                      environ={})
    assert s.detection.quote_keywords == () and s.detection.quote_phrases == ("le envío",)


def test_second_edition_detection_lists_and_holding_days(tmp_path):
    s = load_settings(write(tmp_path, BASE), environ={})
    assert s.detection.request_phrases == DEFAULT_REQUEST_PHRASES
    assert s.detection.exclude_phrases == DEFAULT_EXCLUDE_PHRASES
    assert s.detection.holding_phrases == DEFAULT_HOLDING_PHRASES
    assert s.detection.public_domains == DEFAULT_PUBLIC_DOMAINS
    assert s.protocol.holding_days == 5
    s = load_settings(write(tmp_path, edited('holidays_country = "MX"', 'holidays_country = "MX"\n'
                                             'holding_days = 3') + '[detection]\n'
                            'holding_phrases = ["te confirmo"]\npublic_domains = ["Gmail.com"]\n'
                            'request_phrases = []\n'), environ={})
    assert s.protocol.holding_days == 3
    assert s.detection.holding_phrases == ("te confirmo",)
    assert s.detection.public_domains == ("gmail.com",)
    assert s.detection.request_phrases == ()
    err = load_error(tmp_path, edited('holidays_country = "MX"', 'holidays_country = "MX"\n'
                                      'holding_days = "five"'))
    assert err.key == "protocol.holding_days" and "holding_days = 5" in err.fix
    err = load_error(tmp_path, BASE + '[detection]\npublic_domains = ["@gmail.com"]\n')
    assert err.key == "detection.public_domains[1]" and '"gmail.com"' in err.fix
    err = load_error(tmp_path, BASE + '[detection]\nholding_phrase = ["te aviso"]\n')
    assert err.key == "detection.holding_phrase" and "holding_phrases" in err.fix
    err = load_error(tmp_path, BASE + '[detection]\nexclude_phrases = "tipo de cambio"\n')
    assert err.key == "detection.exclude_phrases" and '["tipo de cambio"]' in err.fix


def test_storage_values(tmp_path):
    err = load_error(tmp_path, BASE + '[storage]\nurl = "followup.db"\n')
    assert err.key == "storage.url" and "sqlite:///followup.db" in err.fix
    err = load_error(tmp_path, BASE + '[storage]\nurl = "sqlite:/followup.db"\n')
    assert err.key == "storage.url"
    err = load_error(tmp_path, BASE + '[storage]\nurl = "postgresql://u:hunter2@db/f"\n')
    assert err.key == "storage.url" and "FOLLOWUP_DATABASE_URL" in err.fix
    assert "hunter2" not in str(err)


def test_duplicate_account_names(tmp_path):
    err = load_error(tmp_path, BASE + IMAP.replace('name = "shared"', 'name = "ana"'))
    assert err.key == "accounts[2].name"
    assert "own name" in err.fix


@pytest.mark.parametrize("old,new,key,in_fix", [
    ('host = "imap.acme.example"\n', "", "accounts[2].host", "host ="),
    ('username = "ventas@acme.example"\n', "", "accounts[2].username", "username ="),
    ('password_env = "FOLLOWUP_IMAP_PASSWORD"\n', "", "accounts[2].password_env", "environment variable"),
    ('password_env = "FOLLOWUP_IMAP_PASSWORD"', 'password_env = "my pass"', "accounts[2].password_env",
     "password_env ="),
    ('password_env = "FOLLOWUP_IMAP_PASSWORD"', 'password_env = "P"\ntls = "none"', "accounts[2].tls", '"ssl"'),
    ('password_env = "FOLLOWUP_IMAP_PASSWORD"', 'password_env = "P"\ntls = "tls"', "accounts[2].tls", "tls ="),
    ('password_env = "FOLLOWUP_IMAP_PASSWORD"', 'password_env = "P"\nport = 0', "accounts[2].port", "port = 993"),
    ('password_env = "FOLLOWUP_IMAP_PASSWORD"', 'password_env = "P"\nport = 70000', "accounts[2].port", "port ="),
    ('password_env = "FOLLOWUP_IMAP_PASSWORD"', 'password_env = "P"\nport = "993"', "accounts[2].port",
     "port = 993"),
    ('password_env = "FOLLOWUP_IMAP_PASSWORD"', 'password_env = "P"\npath = "x"', "accounts[2].path", "remove path"),
])
def test_imap_accounts(tmp_path, old, new, key, in_fix):
    err = load_error(tmp_path, BASE + edited(old, new, IMAP))
    assert err.key == key
    assert in_fix in err.fix, err.fix


def test_imap_account_values(tmp_path):
    text = BASE + edited('host = "imap.acme.example"', 'host = "127.0.0.1"\ntls = "none"\nfolders = ["INBOX"]',
                         IMAP).replace('username = "ventas@acme.example"', 'username = "ana@acme.example"')
    a = load_settings(write(tmp_path, text), environ={}).account("shared")
    assert (a.host, a.tls, a.port, a.folders) == ("127.0.0.1", "none", 143, ("INBOX",))
    assert a.owner == "ana@acme.example"  # the username is a team member
    text = BASE + edited('password_env = "FOLLOWUP_IMAP_PASSWORD"', 'oauth = "tokens/ventas.json"\ntls = "starttls"', IMAP)
    a = load_settings(write(tmp_path, text), environ={}).account("shared")
    assert (a.port, a.password_env, a.oauth) == (143, None, str(tmp_path / "tokens" / "ventas.json"))
    text = BASE + edited('password_env = "FOLLOWUP_IMAP_PASSWORD"', 'password_env = "P"\nport = 1143', IMAP)
    assert load_settings(write(tmp_path, text), environ={}).account("shared").port == 1143


def test_gmail_account_needs_a_token_file(tmp_path):
    gmail = '[[accounts]]\nname = "g"\nkind = "gmail"\nusername = "ana@acme.example"\n'
    err = load_error(tmp_path, BASE + gmail)
    assert err.key == "accounts[2].oauth" and "oauth =" in err.fix
    a = load_settings(write(tmp_path, BASE + gmail + 'oauth = "/etc/followup/g.json"\n'), environ={}).account("g")
    assert (a.kind, a.oauth, a.owner) == ("gmail", "/etc/followup/g.json", "ana@acme.example")


# --- Every key the settings declare is documented ------------------------------------------

def _documented_keys() -> tuple[dict[str, set[str]], set[str]]:
    """docs/configuration.md read as ``section -> the keys its tables list`` (a ``kind =``
    subsection counts as its section's), and the sections it has a heading for."""
    import re

    text = (Path(__file__).resolve().parents[1] / "docs" / "configuration.md").read_text(
        encoding="utf-8")
    rows: dict[str, set[str]] = {}
    headings: set[str] = set()
    section = None
    for line in text.splitlines():
        heading = re.match(r"^#{2,3} `\[{1,2}([a-z_.]+)\]{1,2}`", line)
        if heading:
            section = heading.group(1)
            headings.add(section)
        elif re.match(r"^## ", line):
            section = None  # a section with no keys (Where the file is, Types used below...)
        elif section and (row := re.match(r"^\| `([a-z_]+)` \|", line)):
            rows.setdefault(section, set()).add(row.group(1))
    return rows, headings


def test_every_key_the_settings_declare_is_documented_in_configuration_md():
    from assistant.settings import KEYS

    rows, headings = _documented_keys()
    undocumented = []
    for section, keys in KEYS.items():
        for key in keys:
            table = f"{section}.{key}" if section else key
            if key not in rows.get(section, set()) and table not in headings:
                undocumented.append(table)
    assert undocumented == [], f"keys missing from docs/configuration.md: {undocumented}"


def test_configuration_md_documents_only_keys_the_settings_read():
    from assistant.settings import KEYS

    rows, _ = _documented_keys()
    assert rows, "no key tables found in docs/configuration.md"
    unknown = sorted(f"{section}.{key}" for section, keys in rows.items() for key in keys
                     if key not in KEYS.get(section, ()))
    assert unknown == [], f"documented keys load_settings does not read: {unknown}"


# --- [[contacts]]: what the admins know about clients -----------------------------------

def test_contacts_load_with_their_defaults(tmp_path):
    from assistant.settings import Contact

    s = load_settings(write(tmp_path, BASE + '''
[[contacts]]
email = "RQuiroga@Barandales.example"
name = "Raúl Quiroga"
company = "Barandales MX"
phone = "+52 81 2233 4455"
formal = true

[[contacts]]
email = "compras@aceros.example"
'''), environ={})
    assert s.contacts == (
        Contact("rquiroga@barandales.example", "Raúl Quiroga", "Barandales MX", "+52 81 2233 4455", True),
        Contact("compras@aceros.example"))
    assert s.contact("RQUIROGA@barandales.example").formal is True
    assert s.contact("nadie@aceros.example") is None
    assert load_settings(write(tmp_path, BASE), environ={}).contacts == ()


@pytest.mark.parametrize("entry, key, words", [
    ('email = "rquiroga at barandales"', "contacts[1].email", "not an email address"),
    ('name = "Raúl"', "contacts[1].email", "email"),
    ('email = "a@b.example"\nformal = "sí"', "contacts[1].formal", "formal"),
    ('email = "a@b.example"\nphone = "llamar"', "contacts[1].phone", "not a phone number"),
    ('email = "a@b.example"\nempresa = "X"', "contacts[1].empresa", "empresa"),
])
def test_a_bad_contact_names_its_key_and_the_fix(tmp_path, entry, key, words):
    err = load_error(tmp_path, BASE + "\n[[contacts]]\n" + entry + "\n")
    assert err.key == key, str(err)
    assert words in str(err)


def test_a_contact_listed_twice_is_refused(tmp_path):
    err = load_error(tmp_path, BASE + '\n[[contacts]]\nemail = "a@b.example"\n'
                                      '\n[[contacts]]\nemail = "A@b.example"\n')
    assert err.key == "contacts[2].email" and "[[contacts]]" in err.fix


def test_a_bad_contact_email_exits_2_from_the_cli(tmp_path):
    from click.testing import CliRunner

    from assistant.cli import main

    path = write(tmp_path, BASE + '\n[[contacts]]\nemail = "rquiroga@"\n')
    result = CliRunner().invoke(main, ["--config", str(path), "scan"])
    assert result.exit_code == 2
    assert "contacts[1].email" in result.output and str(path) in result.output


# --- [crm] api: Odoo's JSON-2 API or XML-RPC -------------------------------------------

ODOO = '\n[crm]\nkind = "odoo"\nurl = "https://acme.odoo.example"\napi_key_env = "FOLLOWUP_CRM_API_KEY"\n'


def test_odoo_api_defaults_to_json2_and_xmlrpc_loads_with_its_login(tmp_path):
    assert load_settings(write(tmp_path, BASE + ODOO), environ={}).crm.api == "json2"
    crm = load_settings(write(tmp_path, BASE + ODOO + 'api = "XMLRPC"\ndatabase = "acme"\n'
                                                       'username = "followup"\n'), environ={}).crm
    assert (crm.api, crm.database, crm.username) == ("xmlrpc", "acme", "followup")


@pytest.mark.parametrize("extra, key, words", [
    ('api = "xml-rpc"\n', "crm.api", 'did you mean "xmlrpc"'),
    ('api = "xmlrpc"\nusername = "followup"\n', "crm.database", 'add database = "acme"'),
    ('api = "xmlrpc"\ndatabase = "acme"\n', "crm.username", 'add username = "followup"'),
])
def test_a_bad_odoo_api_names_its_key_and_the_fix(tmp_path, extra, key, words):
    err = load_error(tmp_path, BASE + ODOO + extra)
    assert err.key == key, str(err)
    assert words in str(err) and str(tmp_path / "settings.toml") in str(err)


def test_api_on_another_crm_is_refused(tmp_path):
    err = load_error(tmp_path, BASE + ODOO.replace('"odoo"', '"hubspot"') + 'api = "json2"\n')
    assert err.key == "crm.api" and "remove the api line" in err.fix
