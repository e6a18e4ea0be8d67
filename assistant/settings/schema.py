"""Reading helpers for ``load_settings``: typed look-ups that name the key, the file and a fix.

Every check raises :class:`SettingsError` with a dotted key (``protocol.steps[2].after_days``,
array entries numbered from 1 as they appear in the file), the settings file and one
sentence telling the user what to write instead.
"""

from __future__ import annotations

import datetime as _dt
import difflib
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

SECRET_KEYS = ("password", "token", "secret")
"""Key names that would put a secret in the file (also as a suffix: ``api_token``)."""

_NUMBER_WORDS = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
    "seven": 7, "eight": 8, "nine": 9, "ten": 10,
    "cero": 0, "uno": 1, "un": 1, "dos": 2, "tres": 3, "cuatro": 4, "cinco": 5,
    "seis": 6, "siete": 7, "ocho": 8, "nueve": 9, "diez": 10,
}
_HHMM = re.compile(r"^(\d{1,2}):(\d{2})$")


class SettingsError(Exception):
    """``settings.toml`` is missing or wrong. ``str()`` names the key, the file and a fix."""

    def __init__(self, message: str, *, key: str | None, file: Path | str, fix: str) -> None:
        self.message = message.rstrip(". ")
        self.key = key
        self.file = Path(file)
        self.fix = fix.rstrip(". ")
        super().__init__(str(self))

    def __str__(self) -> str:
        where = f"{self.file}: {self.key}: " if self.key else f"{self.file}: "
        return f"{where}{self.message}. Fix: {self.fix}."


def toml_repr(value: Any) -> str:
    """A value as the user would have written it in TOML."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "[" + ", ".join(toml_repr(v) for v in value) + "]"
    if isinstance(value, (_dt.datetime, _dt.date, _dt.time)):
        return value.isoformat()
    return str(value)


def join_key(prefix: str, name: str) -> str:
    return f"{prefix}.{name}" if prefix else name


@dataclass(frozen=True)
class Reader:
    """Typed, explained look-ups in the parsed TOML of one settings file."""

    file: Path
    """The file as the user named it (used in messages)."""
    folder: Path
    """The file's resolved folder (relative paths resolve against it)."""

    def error(self, key: str | None, message: str, fix: str) -> SettingsError:
        return SettingsError(message, key=key, file=self.file, fix=fix)

    # -- keys ---------------------------------------------------------------
    def check_keys(self, table: dict, prefix: str, known: Iterable[str]) -> None:
        """Refuse secrets and unknown keys, suggesting the closest known key."""
        known = tuple(known)
        for name in table:
            lowered = name.lower()
            if any(lowered == s or lowered.endswith("_" + s) for s in SECRET_KEYS):
                raise self.error(
                    join_key(prefix, name),
                    "secrets never go in the settings file",
                    "delete this key, put the secret in an environment variable and "
                    "name that variable with password_env (for example "
                    'password_env = "FOLLOWUP_IMAP_PASSWORD")',
                )
        for name in table:
            if name in known:
                continue
            close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
            if close:
                fix = f"did you mean `{close[0]}`? Rename the key to {close[0]}"
            else:
                fix = "remove it; the keys allowed here are " + ", ".join(known)
            raise self.error(join_key(prefix, name), f"unknown key {json.dumps(name)}", fix)

    def required(self, table: dict, prefix: str, name: str, example: str) -> Any:
        if name not in table:
            where = f"[{prefix}]" if prefix and "[" not in prefix else (prefix or "the file")
            raise self.error(
                join_key(prefix, name), f"required key is missing from {where}",
                f"add {name} = {example}",
            )
        return table[name]

    # -- tables -------------------------------------------------------------
    def table(self, data: dict, prefix: str, name: str, *, required: bool) -> dict | None:
        key = join_key(prefix, name)
        if name not in data:
            if required:
                raise self.error(key, f"the [{key}] section is missing", f"add a [{key}] section")
            return None
        value = data[name]
        if not isinstance(value, dict):
            raise self.error(
                key, f"expected a [{key}] section, got {toml_repr(value)}",
                f"write the settings under a [{key}] header instead of {name} = ...",
            )
        return value

    def tables(self, data: dict, prefix: str, name: str, *, required: bool,
               example: str) -> list[tuple[str, dict]]:
        """An array of tables (``[[name]]``), each with its dotted key (numbered from 1)."""
        key = join_key(prefix, name)
        if name not in data:
            if required:
                raise self.error(key, f"no [[{key}]] entries", f"add at least one [[{key}]] entry with {example}")
            return []
        value = data[name]
        if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
            raise self.error(
                key, f"expected one or more [[{key}]] entries, got {toml_repr(value)}",
                f"write [[{key}]] (double brackets) above each entry",
            )
        if required and not value:
            raise self.error(key, f"no [[{key}]] entries", f"add at least one [[{key}]] entry with {example}")
        return [(f"{key}[{i}]", v) for i, v in enumerate(value, start=1)]

    # -- scalars ------------------------------------------------------------
    def string(self, table: dict, prefix: str, name: str, *, example: str,
               required: bool = False, default: str | None = None,
               choices: Iterable[str] | None = None, lower: bool = False) -> str | None:
        key = join_key(prefix, name)
        if name not in table:
            if required:
                self.required(table, prefix, name, json.dumps(example, ensure_ascii=False))
            return default
        value = table[name]
        if not isinstance(value, str):
            raise self.error(key, f"expected text in quotes, got {toml_repr(value)}",
                             f"write {name} = {json.dumps(example, ensure_ascii=False)}")
        value = value.strip()
        if lower:
            value = value.lower()
        if not value:
            raise self.error(key, "must not be empty",
                             f"write {name} = {json.dumps(example, ensure_ascii=False)}")
        if choices is not None:
            choices = tuple(choices)
            if value not in choices:
                close = difflib.get_close_matches(value, choices, n=1, cutoff=0.6)
                hint = f"did you mean {json.dumps(close[0])}? " if close else ""
                raise self.error(
                    key, f"{toml_repr(value)} is not one of {', '.join(choices)}",
                    f"{hint}write {name} = {json.dumps(close[0])}" if close else
                    f"write {name} = {json.dumps(choices[0])} or another of those values",
                )
        return value

    def integer(self, table: dict, prefix: str, name: str, *, what: str, example: int,
                default: int | None = None, required: bool = False,
                minimum: int | None = None, maximum: int | None = None) -> int | None:
        key = join_key(prefix, name)
        if name not in table:
            if required:
                self.required(table, prefix, name, str(example))
            return default
        value = table[name]
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.error(key, f"expected {what}, got {toml_repr(value)}",
                             f"write {name} = {_guess_int(value, example)}")
        if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
            bounds = (f"between {minimum} and {maximum}" if maximum is not None
                      else f"{minimum} or more")
            raise self.error(key, f"expected {what} {bounds}, got {value}",
                             f"write {name} = {example}")
        return value

    def boolean(self, table: dict, prefix: str, name: str, *, default: bool) -> bool:
        key = join_key(prefix, name)
        if name not in table:
            return default
        value = table[name]
        if not isinstance(value, bool):
            guess = "true" if str(value).strip().lower() in ("true", "yes", "si", "sí", "1", "on") else "false"
            raise self.error(key, f"expected true or false, got {toml_repr(value)}",
                             f"write {name} = {guess} (without quotes)")
        return value

    def string_list(self, table: dict, prefix: str, name: str, *, example: str,
                    default: tuple[str, ...] | None = None, lower: bool = False,
                    non_empty: bool = False) -> tuple[str, ...] | None:
        key = join_key(prefix, name)
        if name not in table:
            return default
        value = table[name]
        if isinstance(value, str):
            raise self.error(key, f"expected a list, got {toml_repr(value)}",
                             f"write {name} = [{json.dumps(value.strip(), ensure_ascii=False)}]")
        if not isinstance(value, list):
            raise self.error(key, f"expected a list of texts, got {toml_repr(value)}",
                             f"write {name} = {example}")
        items = []
        for i, item in enumerate(value, start=1):
            if not isinstance(item, str) or not item.strip():
                raise self.error(f"{key}[{i}]", f"expected non-empty text in quotes, got {toml_repr(item)}",
                                 f"write {name} = {example}")
            item = item.strip()
            items.append(item.lower() if lower else item)
        if non_empty and not items:
            raise self.error(key, "the list is empty", f"write {name} = {example}")
        return tuple(items)

    def hhmm(self, table: dict, prefix: str, name: str, *, default: str) -> str:
        """A local time of day, written ``"HH:MM"`` (a TOML local time ``09:00:00`` also works)."""
        key = join_key(prefix, name)
        if name not in table:
            return default
        value = table[name]
        fix = f'write {name} = "{default}" (24-hour clock, HH:MM)'
        if isinstance(value, _dt.time) and value.tzinfo is None and not value.second and not value.microsecond:
            return f"{value.hour:02d}:{value.minute:02d}"
        if not isinstance(value, str):
            raise self.error(key, f"expected a time as \"HH:MM\", got {toml_repr(value)}", fix)
        m = _HHMM.match(value.strip())
        if not m or int(m.group(1)) > 23 or int(m.group(2)) > 59:
            raise self.error(key, f"expected a time as \"HH:MM\", got {toml_repr(value)}", fix)
        return f"{int(m.group(1)):02d}:{m.group(2)}"

    def path(self, value: str) -> Path:
        """A path from the file, resolved against the file's folder."""
        p = Path(value).expanduser()
        return p if p.is_absolute() else (self.folder / p)


def _guess_int(value: Any, example: int) -> int:
    """The whole number the user probably meant (``"2"`` -> 2, ``"two"`` -> 2, 2.0 -> 2)."""
    if isinstance(value, float) and value.is_integer() and value >= 0:
        return int(value)
    if isinstance(value, str):
        text = value.strip().lower()
        if text.isdigit():
            return int(text)
        if text in _NUMBER_WORDS:
            return _NUMBER_WORDS[text]
    return example
