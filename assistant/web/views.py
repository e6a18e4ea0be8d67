"""The pages. Thin: read the request, call :mod:`assistant.web.services`, render.

Role rules (403 for a signed-in user without the role, 404 for what is not theirs):
every page needs a signed-in team member; ``/team`` and assigning owners need a
manager or an admin; ``/admin/...`` needs an admin.
"""

from __future__ import annotations

import math
from datetime import datetime
from functools import wraps
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from flask import (Blueprint, abort, current_app, flash, g, jsonify, make_response, redirect,
                   render_template, request, session, url_for)

from assistant.web import i18n, security, services, users

auth = Blueprint("auth", __name__)
rep = Blueprint("rep", __name__)
team = Blueprint("team", __name__)
admin = Blueprint("admin", __name__, url_prefix="/admin")


def _ctx():
    """The app object (:class:`assistant.services.app.Followup`) this web app serves."""
    return current_app.extensions["followup"]


def settings():
    return _ctx().settings


def engine():
    return _ctx().engine


def people(addresses, message_ids=()) -> dict:
    """Who these addresses are, for the page (members by their settings name, contacts
    by ``[[contacts]]`` or their mail's names: ``Followup.names``)."""
    return _ctx().names(addresses, message_ids)


def now() -> datetime:
    """The app clock's time, in UTC (SQLite stores no offset)."""
    from assistant.storage.models import as_utc
    return as_utc(_ctx().now())


def local(moment: datetime | None, fmt: str | None = None) -> str:
    """A time in the team's zone: by default in the reader's words (``vie 04 dic 09:00``,
    the year added when it is not this one), else as ``fmt`` says (a form's ISO day)."""
    if moment is None:
        return "—"
    from assistant.storage.models import as_utc
    from assistant.wording import day_time

    zone = ZoneInfo(settings().team.timezone)
    shown = as_utc(moment).astimezone(zone)
    if fmt is not None:
        return shown.strftime(fmt)
    words = day_time(shown, g.get("lang", "es"))
    return words if shown.year == now().astimezone(zone).year else f"{words} {shown.year}"


def t(text: str, **kw) -> str:
    return i18n.translate(g.get("lang", "es"), text, **kw)


def load_viewer() -> None:
    """Who is signed in (session, or the SSO proxy's header), and the UI language."""
    s = settings()
    viewer = None
    if s.web.auth == "proxy":
        email = request.headers.get(s.web.proxy_header, "")
        if email and security.from_proxy(s.web.proxy_addresses):
            viewer = users.viewer_for(s, email)
    elif session.get("user"):
        viewer = users.viewer_for(s, session["user"])
        if viewer is not None and not users.session_is_current(
                engine(), viewer.email, session.get("version")):
            viewer = None  # ended: signed out elsewhere, or a new password
        if viewer is None:  # (or removed from settings.toml since signing in)
            session.clear()
    g.viewer = viewer
    chosen = session.get("lang")
    if chosen is None and viewer is not None:
        chosen = users.language_of(engine(), viewer.email)
        if chosen:
            session["lang"] = chosen
    g.lang = i18n.choose(chosen, request.accept_languages)


def signed_in(view):
    @wraps(view)
    def wrapper(*args, **kwargs):
        if g.viewer is None:
            if settings().web.auth == "proxy":
                abort(403, description=t("Sign in through your company's sign-in page."))
            return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
        return view(*args, **kwargs)
    return wrapper


def _requires(allowed, refusal: str):
    """A decorator: signed in, and ``allowed(viewer)``, else 403 with ``refusal``."""
    def decorator(view):
        @wraps(view)
        @signed_in
        def wrapper(*args, **kwargs):
            if not allowed(g.viewer):
                abort(403, description=t(refusal))
            return view(*args, **kwargs)
        return wrapper
    return decorator


managers_only = _requires(lambda viewer: viewer.sees_team, "Only managers and admins see this page.")
admins_only = _requires(lambda viewer: viewer.admin, "Only admins see this page.")


def _safe_next(target: str | None) -> str:
    if target and target.startswith("/") and not target.startswith("//") and not urlsplit(target).netloc:
        return target
    return url_for("rep.home")


# --- Sign-in, language ------------------------------------------------------------------

@auth.route("/login", methods=["GET", "POST"])
def login():
    if settings().web.auth == "proxy":
        return redirect(url_for("rep.home"))
    status, error, retry = 200, None, None
    if request.method == "POST":
        client = users.Client(security.client_address(settings().web.proxy_addresses),
                              request.cookies.get(users.DEVICE_COOKIE, ""))
        result = users.check_login(settings(), engine(), request.form.get("email", ""),
                                   request.form.get("password", ""), now(), client=client,
                                   secret=current_app.secret_key)
        if result.viewer is not None:
            lang = session.get("lang")
            session.clear()  # a fresh session (and CSRF token) at every sign-in
            session.permanent = True
            session["user"] = result.viewer.email
            session["version"] = result.session_version
            if lang:
                session["lang"] = lang
            response = redirect(_safe_next(request.args.get("next")))
            response.set_cookie(
                users.DEVICE_COOKIE, result.device, max_age=users.DEVICE_COOKIE_DAYS * 86400,
                path=url_for("auth.login"), httponly=True, samesite="Strict",
                secure=current_app.session_interface.get_cookie_secure(current_app))
            return response
        if result.locked_until is not None:
            status = 429
            retry = max(1, math.ceil((result.locked_until - now()).total_seconds()))
            error = t("Too many wrong passwords. Try again after {time}.",
                      time=local(result.locked_until, "%H:%M"))
        else:
            status, error = 401, t("Wrong email or password.")
    response = make_response(render_template("login.html", error=error), status)
    if retry is not None:
        response.headers["Retry-After"] = str(retry)
    return response


@auth.route("/logout", methods=["POST"])
def logout():
    if g.get("viewer") is not None and settings().web.auth != "proxy":
        users.end_sessions(engine(), g.viewer.email)
    session.clear()
    return redirect(url_for("auth.login"))


@auth.route("/language", methods=["POST"])
def language():
    lang = request.form.get("lang", "")
    if lang in i18n.LANGUAGES:
        session["lang"] = lang
        if g.viewer is not None:
            users.set_language(engine(), g.viewer.email, lang)
    return redirect(_safe_next(request.form.get("next")))


# --- My settings ----------------------------------------------------------------------------

@rep.route("/me")
@signed_in
def me():
    return render_template("me.html", morning=users.morning_email_of(engine(), g.viewer.email),
                           team_on=settings().digest.morning_list)


@rep.route("/me/morning", methods=["POST"])
@signed_in
def me_morning():
    on = request.form.get("morning") == "on"
    users.set_morning_email(engine(), g.viewer.email, on)
    flash(t("Morning email on.") if on else t("Morning email off."), "ok")
    return redirect(url_for("rep.me"))


# --- Rep: my follow-ups, threads ---------------------------------------------------------

@rep.route("/")
@signed_in
def home():
    if g.viewer.is_manager:
        return redirect(url_for("team.overview"))
    return redirect(url_for("rep.followups"))


@rep.route("/followups")
@signed_in
def followups():
    rows = services.queue(engine(), g.viewer)
    threads = services.queue_reports(settings(), engine(), rows, now())
    subjects = {key: r.subject for key, r in threads.items()}
    return render_template("queue.html", rows=rows, subjects=subjects, threads=threads,
                           slug=services.thread_slug, today=local(now(), "%Y-%m-%d"),
                           people=people({r.contact for r in rows}, {r.quote_message_id for r in rows}))


def _or_404(lookup, *args):
    """``lookup(*args)``, or 404 when it is not there or not the viewer's to see."""
    try:
        return lookup(*args)
    except services.NotFound:
        abort(404)


def _followup_or_404(fid: int):
    return _or_404(services.followup_for, engine(), g.viewer, fid)


@rep.route("/followups/<int:fid>")
@signed_in
def followup(fid: int):
    row = _followup_or_404(fid)
    report = _thread_or_404(services.thread_slug(row.quote_message_id))
    events = services.timeline(settings(), engine(), report)
    return render_template("followup.html", row=row, report=report, events=events,
                           slug=services.thread_slug(row.quote_message_id),
                           people=people({row.contact, row.assignee, report.owner, *(row.cc or ())}
                                         | {e.who for e in events},
                                         [report.quote_message_id]))


def _act(fid: int, action) -> object:
    _followup_or_404(fid)
    try:
        message = action()
    except services.NotFound:
        abort(404)
    except services.Refused as exc:
        flash(exc.words(g.lang), "error")
        return redirect(url_for("rep.followup", fid=fid))
    flash(message, "ok")
    return redirect(url_for("rep.followups"))


@rep.route("/followups/<int:fid>/approve", methods=["POST"])
@signed_in
def approve(fid: int):
    def run():
        note = services.approve(settings(), engine(), g.viewer, fid, now(), g.lang)
        return t("Approved.") + (f" {note[:1].upper()}{note[1:]}" if note else "")
    return _act(fid, run)


@rep.route("/followups/<int:fid>/skip", methods=["POST"])
@signed_in
def skip(fid: int):
    def run():
        services.skip(settings(), engine(), g.viewer, fid, request.form.get("reason", ""), now())
        return t("Skipped.")
    return _act(fid, run)


@rep.route("/followups/<int:fid>/edit", methods=["POST"])
@signed_in
def edit(fid: int):
    _followup_or_404(fid)
    try:
        services.edit(settings(), engine(), g.viewer, fid, request.form.get("subject", ""),
                      request.form.get("body", ""), now())
    except services.Refused as exc:
        flash(exc.words(g.lang), "error")
    else:
        flash(t("Saved."), "ok")
    return redirect(url_for("rep.followup", fid=fid))


def _thread_or_404(slug: str):
    return _or_404(services.thread_for, settings(), engine(), g.viewer, slug, now())


@rep.route("/threads/<slug>")
@signed_in
def thread(slug: str):
    report = _thread_or_404(slug)
    events = services.timeline(settings(), engine(), report)
    rows = services.thread_followups(engine(), report)
    history = services.thread_history(engine(), report)
    names = {m.email: m.name for m in settings().team.members}
    return render_template("thread.html", report=report, slug=slug, events=events, followups=rows,
                           people=people({report.contact, report.owner, *report.owner_candidates}
                                         | {e.who for e in events} | {f.assignee for f in rows},
                                         [report.quote_message_id]),
                           history=history, names=names, today=local(now(), "%Y-%m-%d"),
                           active={kind: any(h.kind == kind and h.undone_at is None
                                             for h in history)
                                   for kind in ("mark", "snooze", "reply")})


UNDO_OF = {"mark": "unmark", "snooze": "unsnooze", "reply": "unreply"}


@rep.route("/threads/<slug>/<action>", methods=["POST"])
@signed_in
def outcome(slug: str, action: str):
    """Mark won/lost, snooze, log the client's answer outside email, or undo one (the
    thread page's and the queue's forms); the flash offers the undo."""
    if action not in services.OUTCOME_ACTIONS:
        abort(404)
    _thread_or_404(slug)
    try:
        done = services.outcome_action(settings(), engine(), g.viewer, slug, action,
                                       request.form, now())
    except services.NotFound:
        abort(404)
    except services.ActionError as exc:
        flash(exc.words(g.lang), "error")
    else:
        flash(done.words(g.lang), "ok")
        if action in UNDO_OF:
            session["undo"] = {"slug": slug, "action": UNDO_OF[action]}
        else:
            session.pop("undo", None)
    target = request.form.get("next")
    return redirect(_safe_next(target) if target else url_for("rep.thread", slug=slug))


@rep.route("/threads/<slug>/touch", methods=["POST"])
@signed_in
def touch(slug: str):
    _thread_or_404(slug)
    channel = request.form.get("channel", "phone")
    try:
        services.log_touch(settings(), engine(), g.viewer, slug, channel,
                           request.form.get("note", ""), now())
    except services.Refused as exc:
        flash(exc.words(g.lang), "error")
    else:
        flash(t("Call logged.") if channel == "phone" else t("WhatsApp message logged."), "ok")
    return redirect(_safe_next(request.form.get("next")) if request.form.get("next")
                    else url_for("rep.thread", slug=slug))


# --- Manager: team ------------------------------------------------------------------------

@team.route("/team")
@managers_only
def overview():
    view = services.team_view(settings(), engine(), g.viewer, now())
    names = {m.email: m.name for m in settings().team.members}
    shown = [r for _, group, _ in view.silent_by_owner for r in group] + view.awaiting + view.unclear
    return render_template("team.html", view=view, names=names, slug=services.thread_slug,
                           people=people({a for r in shown for a in (r.contact, r.owner, *r.owner_candidates)}
                                         | {owner for owner, _, _ in view.silent_by_owner},
                                         {r.quote_message_id for r in shown}))


@team.route("/team/threads/<slug>/owner", methods=["POST"])
@managers_only
def assign(slug: str):
    try:
        report = services.assign_owner(settings(), engine(), g.viewer, slug,
                                       request.form.get("owner", ""), now())
    except services.NotFound:
        abort(404)
    except services.Refused as exc:
        flash(exc.words(g.lang), "error")
    else:
        flash(t("Owner of “{subject}” set to {owner}.", subject=report.subject,
                owner=request.form.get("owner", "")), "ok")
    return redirect(url_for("team.overview"))


# --- Admin: templates, settings --------------------------------------------------------------

@admin.route("/templates")
@admins_only
def templates():
    return render_template("templates.html", rows=services.template_rows(settings(), engine()))


def _versions_or_404(name: str, language: str):
    return _or_404(services.versions, engine(), name, language, settings().templates.folder)


@admin.route("/templates/<name>/<language>", methods=["GET", "POST"])
@admins_only
def template(name: str, language: str):
    versions = _versions_or_404(name, language)
    text = versions[0].text
    error = line = None
    status = 200
    if request.method == "POST":
        text = request.form.get("text", "")
        try:
            number = services.save_template(engine(), g.viewer, name, language, text, now(),
                                            settings().templates.folder)
        except services.TemplateProblem as exc:
            error, status, line = exc.describe(g.lang), 422, exc.line
        else:
            flash(t("Saved as version {n}.", n=number), "ok")
            return redirect(url_for("admin.template", name=name, language=language))
    slug = request.values.get("thread") or None
    shown = services.preview(settings(), engine(), name, language, text, slug, now(), g.lang)
    return render_template("template_edit.html", name=name, language=language, text=text,
                           versions=versions, preview=shown, error=error, line=line,
                           threads=services.preview_threads(settings(), engine(), now()),
                           thread=slug), status


@admin.route("/templates/<name>/<language>/preview", methods=["POST"])
@admins_only
def preview(name: str, language: str):
    _versions_or_404(name, language)
    shown = services.preview(settings(), engine(), name, language, request.form.get("text", ""),
                             request.form.get("thread") or None, now(), g.lang)
    return jsonify(subject=shown.subject, body=shown.body, error=shown.error, line=shown.line,
                   thread=shown.thread, slug=shown.slug)


@admin.route("/templates/<name>/<language>/history")
@admins_only
def history(name: str, language: str):
    versions = _versions_or_404(name, language)
    by_number = {v.version: v for v in versions}
    new = by_number.get(request.args.get("b", type=int), versions[0])
    old = by_number.get(request.args.get("a", type=int),
                        versions[1] if len(versions) > 1 else versions[0])
    return render_template("template_history.html", name=name, language=language,
                           versions=versions, old=old, new=new,
                           diff=services.diff(old.text, new.text))


@admin.route("/templates/<name>/<language>/rollback", methods=["POST"])
@admins_only
def rollback(name: str, language: str):
    _versions_or_404(name, language)
    version = request.form.get("version", type=int)
    try:
        number = services.rollback(engine(), g.viewer, name, language, version, now(),
                                   settings().templates.folder)
    except services.NotFound:
        abort(404)
    except services.TemplateProblem as exc:
        flash(exc.describe(g.lang), "error")
    else:
        flash(t("Version {old} is current again (saved as version {n}).", old=version, n=number), "ok")
    return redirect(url_for("admin.history", name=name, language=language))


@admin.route("/settings")
@admins_only
def settings_view():
    return render_template("settings.html", s=settings())
