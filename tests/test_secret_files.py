"""Issue 11, point 7: secret files are created exclusively, never through a planted link.

Every secret Followup writes goes through ``connectors._cloud``: OAuth token files
(``followup accounts add``, token refreshes of the Gmail and Graph connectors) through
:func:`write_secret_file`, the web app's key file through :func:`create_secret_file`.
Both write a randomly named temporary file opened with ``O_CREAT|O_EXCL|O_NOFOLLOW``
(mode 0600), then rename (or link) it into place. These tests plant files and symlinks
where an attacker who can write the folder would, on real files.
"""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import threading
from pathlib import Path

import pytest

import connectors._cloud as cloud
from connectors._cloud import create_secret_file, write_secret_file

FOLLOWUP = str(Path(sys.executable).with_name("followup"))


def victim(tmp_path: Path) -> Path:
    path = tmp_path / "victim.txt"
    path.write_text("precious\n", encoding="utf-8")
    path.chmod(0o644)
    return path


def mode(path: Path) -> int:
    return stat.S_IMODE(path.lstat().st_mode)


def temporaries(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


def test_a_symlink_planted_at_the_token_path_is_replaced_not_followed(tmp_path):
    target = victim(tmp_path)
    token = tmp_path / "secrets" / "ana-token.json"
    token.parent.mkdir()
    token.symlink_to(target)
    write_secret_file(token, '{"token": "new"}')
    assert target.read_text(encoding="utf-8") == "precious\n"   # never written through the link
    assert not token.is_symlink() and token.is_file()
    assert token.read_text(encoding="utf-8") == '{"token": "new"}'
    assert mode(token) == 0o600
    assert temporaries(token.parent) == []


def test_the_old_predictable_temporary_name_is_not_used(tmp_path):
    target = victim(tmp_path)
    token = tmp_path / "ana-token.json"
    planted = tmp_path / f".{token.name}.{os.getpid()}.tmp"  # the name the old code used
    planted.symlink_to(target)
    write_secret_file(token, "secret")
    assert target.read_text(encoding="utf-8") == "precious\n"
    assert planted.is_symlink()  # left alone
    assert token.read_text(encoding="utf-8") == "secret"


def test_a_planted_temporary_name_is_skipped_for_another_random_one(tmp_path, monkeypatch):
    target = victim(tmp_path)
    token = tmp_path / "ana-token.json"
    names = iter(["aaaa", "bbbb"])
    monkeypatch.setattr(cloud.secrets, "token_hex", lambda n: next(names))
    (tmp_path / ".ana-token.json.aaaa.tmp").symlink_to(target)
    opened: list[tuple[str, int]] = []
    real_open = os.open

    def spy(path, flags, *args, **kwargs):
        opened.append((os.fspath(path), flags))
        return real_open(path, flags, *args, **kwargs)

    monkeypatch.setattr(cloud.os, "open", spy)
    write_secret_file(token, "secret")
    assert target.read_text(encoding="utf-8") == "precious\n"
    tmp_opens = [(p, f) for p, f in opened if p.endswith(".tmp")]
    assert [Path(p).name for p, _ in tmp_opens] == [".ana-token.json.aaaa.tmp", ".ana-token.json.bbbb.tmp"]
    for _, flags in tmp_opens:
        want = os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_WRONLY
        assert flags & want == want
    assert token.read_text(encoding="utf-8") == "secret" and mode(token) == 0o600


def test_mode_is_0600_whatever_the_umask(tmp_path):
    old = os.umask(0)
    try:
        write_secret_file(tmp_path / "a.json", "x")
        assert create_secret_file(tmp_path / "b.key", "y")
    finally:
        os.umask(old)
    assert mode(tmp_path / "a.json") == 0o600 and mode(tmp_path / "b.key") == 0o600


def test_a_failed_rename_leaves_no_temporary_and_the_old_token(tmp_path, monkeypatch):
    token = tmp_path / "ana-token.json"
    write_secret_file(token, "old")

    def refuse(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(cloud.os, "replace", refuse)
    with pytest.raises(OSError):
        write_secret_file(token, "new")
    assert token.read_text(encoding="utf-8") == "old"
    assert temporaries(tmp_path) == []


def test_create_never_follows_or_overwrites(tmp_path):
    dangling = tmp_path / "dangling.key"
    dangling.symlink_to(tmp_path / "created-through-the-link")
    assert create_secret_file(dangling, "k" * 64) is False
    assert not (tmp_path / "created-through-the-link").exists()
    existing = tmp_path / "existing.key"
    assert create_secret_file(existing, "first") is True
    assert create_secret_file(existing, "second") is False
    assert existing.read_text(encoding="utf-8") == "first"
    assert temporaries(tmp_path) == []


def test_web_key_file_refuses_a_planted_symlink(tmp_path):
    from types import SimpleNamespace

    from assistant.web import security

    settings = SimpleNamespace(storage=SimpleNamespace(sqlite_path=tmp_path / "followup.db"),
                               folder=tmp_path)
    known = tmp_path / "attacker-known.key"
    known.write_text("k" * 64, encoding="ascii")
    known.chmod(0o600)
    (tmp_path / security.SECRET_FILE).symlink_to(known)
    with pytest.raises(security.SecretFileError, match="symbolic link"):
        security.secret_key(settings, {})
    assert known.read_text(encoding="ascii") == "k" * 64
    (tmp_path / security.SECRET_FILE).unlink()
    (tmp_path / security.SECRET_FILE).symlink_to(tmp_path / "would-be-created")
    with pytest.raises(security.SecretFileError, match="symbolic link"):
        security.secret_key(settings, {})
    assert not (tmp_path / "would-be-created").exists()
    (tmp_path / security.SECRET_FILE).unlink()
    key = security.secret_key(settings, {})  # a fresh start: a regular 0600 file
    path = tmp_path / security.SECRET_FILE
    assert len(key) >= 32 and not path.is_symlink() and mode(path) == 0o600
    assert security.secret_key(settings, {}) == key
    assert temporaries(tmp_path) == []


def test_web_key_file_refuses_a_fifo_without_hanging(tmp_path):
    from types import SimpleNamespace

    from assistant.web import security

    settings = SimpleNamespace(storage=SimpleNamespace(sqlite_path=tmp_path / "followup.db"),
                               folder=tmp_path)
    os.mkfifo(tmp_path / security.SECRET_FILE, 0o600)
    outcome: list[BaseException] = []

    def start() -> None:
        try:
            security.secret_key(settings, {})
        except BaseException as exc:  # noqa: BLE001 - handed to the test thread
            outcome.append(exc)

    worker = threading.Thread(target=start, daemon=True)
    worker.start()
    worker.join(10)
    if worker.is_alive():  # unblock the reader so the test run can finish
        os.close(os.open(tmp_path / security.SECRET_FILE, os.O_WRONLY | os.O_NONBLOCK))
        pytest.fail("reading the key file blocked on a FIFO")
    assert len(outcome) == 1 and isinstance(outcome[0], security.SecretFileError)
    assert "not a regular file" in str(outcome[0])


def test_accounts_add_writes_the_token_file_exclusively(tmp_path):
    """The real command: `followup accounts add gmail --service-account KEY.json` with a
    symlink planted where the token file goes."""
    target = victim(tmp_path)
    (tmp_path / "settings.toml").write_text(
        '[company]\nname = "Acme"\ndomains = ["acme.example"]\n\n[team]\ntimezone = "UTC"\n\n'
        '[[team.members]]\nemail = "ana@acme.example"\nname = "Ana"\nrole = "account_executive"\n',
        encoding="utf-8")
    key = tmp_path / "key.json"
    key.write_text('{"type": "service_account", "client_email": "x@y.example"}', encoding="utf-8")
    secrets_dir = tmp_path / "secrets"
    secrets_dir.mkdir()
    (secrets_dir / "ana-token.json").symlink_to(target)
    env = {k: v for k, v in os.environ.items() if k not in ("FOLLOWUP_CONFIG", "FOLLOWUP_DATABASE_URL")}
    proc = subprocess.run([FOLLOWUP, "--config", str(tmp_path / "settings.toml"), "accounts", "add",
                           "gmail", "--name", "ana", "--service-account", str(key)],
                          capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 0, proc.stderr
    token = secrets_dir / "ana-token.json"
    assert target.read_text(encoding="utf-8") == "precious\n"
    assert not token.is_symlink() and mode(token) == 0o600
    assert token.read_text(encoding="utf-8") == key.read_text(encoding="utf-8")
    assert temporaries(secrets_dir) == []
