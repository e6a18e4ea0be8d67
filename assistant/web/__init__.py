"""The web app (issue 7): reps review their follow-ups, managers see the team, admins edit
templates. Server-rendered Flask on the same Jinja2; ``followup serve`` starts it.

``create_app(settings, engine, clock=...)`` builds the app; the views stay thin and call
:mod:`assistant.web.services` (and through it :mod:`assistant.services`). Routes and who
may use them: see ``docs/web.md``.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Callable

from flask import Flask, g, render_template, request, session

from assistant.settings import Settings
from assistant.web import i18n, security

if TYPE_CHECKING:  # the engine is passed through to the services, never queried here
    from sqlalchemy import Engine

__all__ = ["create_app"]


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


def create_app(settings: Settings, engine: Engine, *,
               clock: Callable[[], datetime] = _utcnow, secret: str | None = None) -> Flask:
    app = Flask(__name__)
    app.config.update(
        SECRET_KEY=secret or security.secret_key(settings),
        SESSION_COOKIE_NAME="followup_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        PERMANENT_SESSION_LIFETIME=timedelta(hours=12),
        MAX_CONTENT_LENGTH=1 << 20,
        TEMPLATES_AUTO_RELOAD=False,
    )
    app.session_interface = security.SessionInterface(settings.web.proxy_addresses)
    # The one app object every view and page model reaches the product through.
    from assistant.services.app import Followup

    app.extensions["followup"] = Followup(settings, engine, clock)

    from assistant.wording import (due_words, figure, reason_words, say, snoozed_words, term,
                                   why_waiting)
    from assistant.web import users, views
    users.prepare()
    app.register_blueprint(views.auth)
    app.register_blueprint(views.rep)
    app.register_blueprint(views.team)
    app.register_blueprint(views.admin)
    app.before_request(security.check_csrf)
    app.before_request(views.load_viewer)

    @app.context_processor
    def _globals():
        lang = g.get("lang") or i18n.choose(session.get("lang"), request.accept_languages)
        return {"_": lambda text, **kw: i18n.translate(lang, text, **kw), "lang": lang,
                "csrf_token": security.csrf_token, "viewer": g.get("viewer"),
                "settings": settings, "auth_mode": settings.web.auth,
                "local": lambda moment, fmt=None: views.local(moment, fmt),
                "why_waiting": lambda report: why_waiting(report, lang),
                "due": lambda moment: due_words(
                    moment, clock(), timezone=settings.team.timezone,
                    country=settings.protocol.holidays_country, language=lang),
                "snoozed_words": lambda report: snoozed_words(report, lang),
                "pop_undo": lambda: session.pop("undo", None),
                "say": lambda code, **values: say(code, lang, **values),
                "term": lambda kind, value: term(kind, value, lang),
                "reason": lambda text: reason_words(text, lang),
                "figure": lambda value: figure(value, lang)}

    @app.after_request
    def _headers(response):
        if request.endpoint != "static":  # pages hold people's mail: no copy in any cache
            response.headers["Cache-Control"] = "no-store"
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
            "form-action 'self'; frame-ancestors 'none'")
        return response

    for code in (400, 403, 404, 405, 429):
        app.register_error_handler(code, _error_page(code))
    return app


def _error_page(code: int):
    def handler(exc):
        return render_template("error.html", code=code,
                               description=getattr(exc, "description", "")), code
    return handler


def make_server(settings: Settings, engine: Engine, host: str = "127.0.0.1", port: int = 8000,
                *, clock: Callable[[], datetime] = _utcnow):
    """The app in werkzeug's threaded server, not started (``serve_forever()``); port 0
    picks a free one (``server.port``). Responses name no server software or version.
    ``clock``: the app's time (a benchmark serves a sample team at its own ``now``)."""
    from werkzeug.serving import WSGIRequestHandler, make_server as werkzeug_server

    class Handler(WSGIRequestHandler):
        server_version = "Followup"  # werkzeug's says "Werkzeug/<version>" (SERVER_SOFTWARE)

        def version_string(self) -> str:  # the Server header: no "Werkzeug/x Python/y"
            return "Followup"

    return werkzeug_server(host, port, create_app(settings, engine, clock=clock), threaded=True,
                           request_handler=Handler)


def serve(settings: Settings, engine: Engine, host: str = "127.0.0.1", port: int = 8000) -> None:
    """Run the app with werkzeug's threaded server (put a TLS proxy in front for a team)."""
    make_server(settings, engine, host, port).serve_forever()
