"""The files Followup ships inside its package, so that a wheel (``pip install``,
``pipx install``) has them too: the follow-up templates (``templates/<name>.<es|en>.txt``),
the weekly digest's (``templates/digest/``) and the starter ``settings.toml`` that
``followup init`` writes. (The web app's templates and static files live with it in
``assistant/web/``, the Alembic environment with the storage in
``assistant/storage/migrations/``.)

Admins do not edit these: their own copies go in the templates folder of their settings
(``[templates] folder``, by default ``templates/`` next to ``settings.toml``), which is
searched first, file by file (:func:`search_path`). Template folders are read from disk
(Jinja's ``FileSystemLoader`` in the render worker, like Alembic's migrations), so the
package must be installed unpacked, as pip and pipx do.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

FOLDER = Path(__file__).resolve().parent
TEMPLATES = FOLDER / "templates"
"""The shipped follow-up templates."""
DIGEST = TEMPLATES / "digest"
"""The shipped digest templates and wording."""


def starter_settings() -> str:
    """The text of the starter ``settings.toml`` (the repository's root example)."""
    return resources.files(__name__).joinpath("settings.toml").read_text(encoding="utf-8")


def search_path(overrides: Path | None, sub: str = "") -> tuple[Path, ...]:
    """The folders template files are looked for in, first found wins: the admins'
    ``overrides`` folder (its ``sub`` folder, e.g. ``digest``) when it exists, then the
    shipped one."""
    shipped = TEMPLATES / sub if sub else TEMPLATES
    if overrides is not None:
        own = overrides / sub if sub else overrides
        if own.is_dir():
            return (own, shipped)
    return (shipped,)
