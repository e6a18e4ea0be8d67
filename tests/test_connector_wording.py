"""A connector's error reaches a person in their language.

Connectors import nothing of the product: an error carries a plain ``code`` and its
``values`` beside its English sentence (connectors/base.py), and the catalogue words it.
These tests check that every code a connector raises is worded, that the common faults of
setting an account up carry one, and that ``followup sync`` and ``followup accounts list``
say them in the team's language, once.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from assistant.wording import CATALOGUE, say
from connectors._cloud import check_secret_mode, read_secret_file
from connectors.base import ConfigurationError, ConnectorError
from connectors.mailbox import open_connector
from connectors.whatsapp import WhatsAppConnector
from tests.test_pipeline import run

CONNECTORS = Path(__file__).resolve().parent.parent / "connectors"
_CODE = re.compile(r'"([a-z_]+\.[a-z_]+)"')


def raised_codes() -> set[str]:
    found = set()
    for path in CONNECTORS.rglob("*.py"):
        for line in path.read_text(encoding="utf-8").splitlines():
            if "code=" in line or '"code":' in line:  # code="a.b" [if .. else "c.d"], {"code": "a.b"}
                found |= {f"connector.{c}" for c in _CODE.findall(line)}
    return found


def test_every_code_a_connector_raises_is_in_the_catalogue_and_every_entry_is_raised():
    raised = raised_codes()
    assert len(raised) >= 12
    catalogued = {code for code in CATALOGUE if code.startswith("connector.")}
    assert raised - catalogued == set(), "add these to assistant/wording/commands.py"
    assert catalogued - raised == set(), "no connector raises these any more"


def test_an_error_without_a_code_keeps_only_its_sentence():
    exc = ConnectorError("something odd")
    assert exc.code is None and exc.values == {} and str(exc) == "something odd"


def worded(exc: ConnectorError, language: str) -> str:
    assert exc.code in CATALOGUE, exc.code
    return say(exc.code, language, **exc.values)


@pytest.mark.parametrize("kind, english, spanish", [
    ("maildir", "Maildir not found", "no se encontró el Maildir"),
    ("mbox", "mbox file not found", "no se encontró el archivo mbox"),
    ("eml", ".eml folder not found", "no se encontró la carpeta de archivos .eml"),
])
def test_a_missing_mailbox_path_is_worded_in_both_languages(tmp_path, kind, english, spanish):
    missing = tmp_path / "nowhere"
    with pytest.raises(ConfigurationError) as caught:
        open_connector(kind, missing)
    exc = caught.value
    assert worded(exc, "en") == str(exc) == f"{english}: {missing}"
    assert worded(exc, "es") == f"{spanish}: {missing}"


def test_a_file_where_a_maildir_should_be_and_a_folder_that_is_not_one(tmp_path):
    (tmp_path / "file").write_text("x")
    with pytest.raises(ConfigurationError) as caught:
        open_connector("maildir", tmp_path / "file")
    assert worded(caught.value, "es") == f"la ruta de Maildir no es una carpeta: {tmp_path / 'file'}"
    (tmp_path / "empty").mkdir()
    with pytest.raises(ConfigurationError) as caught:
        open_connector("maildir", tmp_path / "empty")
    assert "no tiene carpeta cur/ ni new/" in worded(caught.value, "es")
    with pytest.raises(ConfigurationError) as caught:
        WhatsAppConnector(tmp_path / "chats")
    assert worded(caught.value, "es").startswith("no se encontró la carpeta de exportaciones de WhatsApp")


def test_token_files_missing_or_readable_by_others(tmp_path):
    token = tmp_path / "gmail-ana.json"
    with pytest.raises(ConfigurationError) as caught:
        read_secret_file(token, fix="run `followup accounts add gmail --name ana` to sign in again")
    assert worded(caught.value, "es") == (f"no se encontró el archivo de token {token}; corre "
                                          "`followup accounts add gmail --name ana` para iniciar sesión")
    token.write_text("{}")
    token.chmod(0o644)
    with pytest.raises(ConfigurationError) as caught:
        check_secret_mode(token)
    assert worded(caught.value, "es") == (f"otros usuarios pueden leer el archivo de token {token} "
                                          f"(modo 0644); corre `chmod 600 {token}`")


def test_sync_says_a_missing_maildir_once_in_spanish_and_accounts_list_keeps_it(tmp_path):
    folder = tmp_path / "team"
    folder.mkdir()
    assert run("init", cwd=folder).returncode == 0, "followup init failed"
    settings = str(folder / "settings.toml")
    sync = run("--config", settings, "sync")
    assert sync.returncode == 1
    lines = [line for line in sync.stdout.splitlines() if line.startswith("ana:")]
    assert lines == [f"ana: FALLÓ (revisa esta cuenta de correo en settings.toml): "
                     f"no se encontró el Maildir: {folder / 'mail' / 'ana'}"], sync.stdout
    assert "not found" not in sync.stdout + sync.stderr
    assert "ERROR" not in sync.stderr  # the command's line says it; no second, English line
    listed = run("--config", settings, "accounts", "list", "--json")
    ana = next(a for a in json.loads(listed.stdout)["accounts"] if a["name"] == "ana")
    assert ana["error"] == f"no se encontró el Maildir: {folder / 'mail' / 'ana'}", ana

    text = Path(settings).read_text(encoding="utf-8")
    Path(settings).write_text(text.replace('language = "es"', 'language = "en"', 1), encoding="utf-8")
    english = run("--config", settings, "sync", "--account", "ana")
    assert f"ana: FAILED (check this account in settings.toml): Maildir not found: " \
           f"{folder / 'mail' / 'ana'}" in english.stdout, english.stdout


def test_an_unreadable_file_is_named_at_each_sync_and_kept_in_accounts_list_until_fixed(tmp_path):
    """Mail left out is never silent: sync names the file under the account's line, in
    the team's language, exits 1, and ``accounts list`` keeps a note; the next syncs say
    it again while it stays unreadable; once it reads, the note and the exit code clear."""
    folder = tmp_path / "team"
    folder.mkdir()
    assert run("init", cwd=folder).returncode == 0
    settings = str(folder / "settings.toml")
    for name in ("ana", "luis", "sofia", "marta"):
        for sub in ("cur", "new", "tmp"):
            (folder / "mail" / name / sub).mkdir(parents=True)
    link = folder / "mail" / "ana" / "cur" / "1.loop.host:2,S"
    link.symlink_to(link.name)  # unreadable, even for root
    for attempt in range(2):
        sync = run("--config", settings, "sync")
        assert sync.returncode == 1, (attempt, sync.stdout, sync.stderr)
        assert "ana: leídos 0, nuevos 0, omitidos 1" in sync.stdout, sync.stdout
        assert f"  omitido: {link}: no se puede leer: " in sync.stdout, sync.stdout
        assert "cannot read" not in sync.stdout + sync.stderr
        listed = run("--config", settings, "accounts", "list", "--json")
        ana = next(a for a in json.loads(listed.stdout)["accounts"] if a["name"] == "ana")
        assert ana["status"] == "ok"
        assert ana["error"].startswith(f"un archivo no se pudo leer en la última sincronización: {link}")
    link.unlink()
    link.write_bytes(b"From: Ana <ana@solana.example>\r\nTo: c@client.example\r\n"
                     b"Subject: hola\r\nMessage-ID: <fixed@solana.example>\r\n"
                     b"Date: Tue, 01 Dec 2026 10:00:00 -0600\r\n\r\nhola\r\n")
    fixed = run("--config", settings, "sync")
    assert fixed.returncode == 0 and "ana: leídos 1, nuevos 1" in fixed.stdout, fixed.stdout
    listed = run("--config", settings, "accounts", "list", "--json")
    ana = next(a for a in json.loads(listed.stdout)["accounts"] if a["name"] == "ana")
    assert ana["error"] is None


def test_a_call_still_failing_after_every_try_is_worded_with_its_count():
    from connectors._cloud import Backoff
    from connectors.base import TransientError

    slept: list[float] = []
    backoff = Backoff(tries=3, base=0.5, sleep=slept.append)
    backoff.wait(0, None, "Gmail messages.list (HTTP 503)")
    backoff.wait(1, 2.0, "Gmail messages.list (HTTP 503)")
    with pytest.raises(TransientError) as info:
        backoff.wait(2, None, "Gmail messages.list (HTTP 503)")
    assert len(slept) == 2 and slept[1] == 2.0  # Retry-After honoured
    exc = info.value
    assert exc.code == "connector.retry.exhausted"
    assert worded(exc, "es") == ("Gmail messages.list (HTTP 503): sigue fallando después de 3 "
                                 "intentos; el siguiente sync lo volverá a intentar")
    assert worded(exc, "en") == str(exc)
