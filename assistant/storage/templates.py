"""The edited follow-up templates: every saved version (``template_versions``), each
kept, none overwritten. Functions take a SQLAlchemy ``Session``; the rows they return
stay readable after it closes (their columns are loaded)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from assistant.storage import models

__all__ = ["versions_oldest_first", "versions_by_template", "saved_names", "add_version"]


def versions_oldest_first(session: Session) -> list[models.TemplateVersion]:
    """Every saved version, by version number (the latest of each template last)."""
    tv = models.TemplateVersion
    return list(session.scalars(select(tv).order_by(tv.version)))


def versions_by_template(session: Session) -> list[models.TemplateVersion]:
    """Every saved version by name, language, then version (the history)."""
    tv = models.TemplateVersion
    return list(session.scalars(select(tv).order_by(tv.name, tv.language, tv.version)))


def saved_names(session: Session) -> set[str]:
    """The names of the templates with a saved version."""
    return set(session.scalars(select(models.TemplateVersion.name).distinct()))


def add_version(session: Session, name: str, language: str, *, subject: str, body: str,
                author: str, at: datetime) -> int:
    """Store ``name``.``language``'s next version (the caller owns the transaction);
    return its number."""
    tv = models.TemplateVersion
    current = session.scalar(select(func.max(tv.version)).where(
        tv.name == name, tv.language == language)) or 0
    session.add(tv(name=name, language=language, version=current + 1, subject=subject,
                   body=body, author=author, created_at=at))
    return current + 1
