"""Secret key, session cookies and CSRF tokens.

CSRF is written here rather than taken from Flask-WTF: the app needs one check (a
per-session random token, compared in constant time on every state-changing request),
and Flask-WTF would bring WTForms along for it.
"""

from __future__ import annotations

import hmac
import ipaddress
import os
import secrets
import stat
from pathlib import Path

from flask import abort, request, session
from flask.sessions import SecureCookieSessionInterface

from assistant.wording import Worded
from connectors._cloud import create_secret_file

SECRET_ENV = "FOLLOWUP_SECRET_KEY"
SECRET_FILE = "followup-web.secret"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def secret_key(settings, environ=os.environ) -> str:
    """``$FOLLOWUP_SECRET_KEY``, else a random key kept in a 0600 file next to the SQLite
    database (or the settings file for other databases), created on first use."""
    if environ.get(SECRET_ENV):
        return environ[SECRET_ENV]
    db = settings.storage.sqlite_path
    folder = db.parent if db is not None else settings.folder
    path = Path(folder) / SECRET_FILE
    # whole or not at all, never through a planted symlink; of two first starts one wins
    create_secret_file(path, secrets.token_urlsafe(48))
    return _existing_secret(path)


class SecretFileError(Worded, RuntimeError):
    """The web secret file is unsafe or unusable; the message says how to fix it (in the
    reader's language: :meth:`words`)."""


def _existing_secret(path: Path) -> str:
    """The key in ``path``, refused when others may read it or when it is too short (a
    crash while writing it, a hand-edited file): signed sessions rest on it."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOFOLLOW", 0)
                     | getattr(os, "O_CLOEXEC", 0))  # O_NONBLOCK: a planted FIFO never hangs us
    except OSError as exc:
        if path.is_symlink():
            raise SecretFileError("secret.symlink", path=str(path), variable=SECRET_ENV) from None
        raise SecretFileError("secret.unreadable", path=str(path), error=exc.strerror,
                              variable=SECRET_ENV) from None
    with os.fdopen(fd, "rb") as handle:
        info = os.fstat(handle.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise SecretFileError("secret.not_a_file", path=str(path), variable=SECRET_ENV)
        if info.st_mode & 0o077:
            raise SecretFileError("secret.readable", path=str(path), variable=SECRET_ENV)
        key = handle.read(4096).decode("ascii", "replace").strip()
    if len(key) < 32:
        raise SecretFileError("secret.no_key", path=str(path), variable=SECRET_ENV)
    return key


def csrf_token() -> str:
    token = session.get(CSRF_FIELD)
    if not token:
        token = session[CSRF_FIELD] = secrets.token_urlsafe(32)
    return token


def check_csrf() -> None:
    """Refuse (400) a state-changing request without this session's token."""
    if request.method not in UNSAFE_METHODS:
        return
    expected = session.get(CSRF_FIELD)
    sent = request.form.get(CSRF_FIELD) or request.headers.get(CSRF_HEADER) or ""
    if not expected or not hmac.compare_digest(expected, sent):
        abort(400, description="csrf")


def from_proxy(proxy_addresses) -> bool:
    """True when the request comes straight from one of the configured proxies."""
    return _within(_ip(request.remote_addr), proxy_addresses)


def _ip(text: str | None):
    try:
        return ipaddress.ip_address((text or "").strip())
    except ValueError:
        return None


def _within(ip, networks) -> bool:
    return ip is not None and any(ip in ipaddress.ip_network(net, strict=False)
                                  for net in networks)


def client_address(proxy_addresses) -> str:
    """The client address the sign-in throttle counts: the peer's, or — on a request that
    comes straight from one of ``proxy_addresses`` — the last ``X-Forwarded-For`` hop that
    is not one of them (the address the proxy saw; hops left of it are the client's own
    word). An IPv6 address counts as its /64 network (one host usually holds a whole
    /64), an IPv4-mapped one as its IPv4 address."""
    peer = _ip(request.remote_addr)
    if _within(peer, proxy_addresses):
        hops = ",".join(request.headers.getlist("X-Forwarded-For")).split(",")
        for hop in reversed(hops):
            ip = _ip(hop)
            if ip is None:  # a proxy that writes garbage: count the proxy itself
                break
            if not _within(ip, proxy_addresses):
                return address_key(ip)
    return address_key(peer)


def address_key(ip) -> str:
    """An address (text or ``ipaddress`` object) as the throttle counts it."""
    if not isinstance(ip, (ipaddress.IPv4Address, ipaddress.IPv6Address)):
        ip = _ip(ip)
    if ip is None:
        return "unknown"
    if ip.version == 6 and ip.ipv4_mapped is not None:
        return str(ip.ipv4_mapped)
    if ip.version == 6:
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


class SessionInterface(SecureCookieSessionInterface):
    """Signed cookie sessions whose ``Secure`` flag follows the connection: set when the
    request came over TLS, or through a configured proxy that says so."""

    def __init__(self, proxy_addresses=()) -> None:
        self.proxy_addresses = tuple(proxy_addresses)

    def get_cookie_secure(self, app) -> bool:
        if request.is_secure:
            return True
        return (request.headers.get("X-Forwarded-Proto", "").lower() == "https"
                and from_proxy(self.proxy_addresses))
