"""Transitional facade: the settings' reading helpers live in :mod:`assistant.settings.schema`;
removed after the merge of the issue-12 branches."""

from assistant.settings.schema import (  # noqa: F401
    SECRET_KEYS, Reader, SettingsError, join_key, toml_repr,
)

__all__ = ["SECRET_KEYS", "Reader", "SettingsError", "join_key", "toml_repr"]
