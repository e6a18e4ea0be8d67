"""One settings object, loaded once from ``settings.toml``, validated, then passed in.

* :mod:`~assistant.settings.model`: the frozen dataclasses every other module relies on,
  and the values they allow;
* :mod:`~assistant.settings.loading`: ``load_settings`` reads the file and validates every
  key (:data:`~assistant.settings.loading.KEYS`, the keys each section may hold);
* :mod:`~assistant.settings.schema`: the typed look-ups validation uses; any problem raises
  :class:`SettingsError`, whose message names the key, the file and a fix (the CLI prints
  it and exits with status 2).

The key reference for admins is ``docs/configuration.md``.
"""

from assistant.settings.loading import (  # noqa: F401
    CONFIG_ENV, DATABASE_URL_ENV, DEFAULT_SETTINGS_FILE, DEFAULT_STORAGE_URL,
    DEFAULT_TEMPLATES_FOLDER, DIGEST_LANGUAGES, KEYS, SMTP_SECURITY, TLS_MODES, WEB_AUTH,
    default_settings_path, load_settings,
)
from assistant.settings.model import (  # noqa: F401
    ACCOUNT_KINDS, CHANNELS, DEFAULT_BUYER_PHRASES, DEFAULT_DECLINE_PHRASES,
    DEFAULT_EXCLUDE_PHRASES, DEFAULT_HOLDING_PHRASES, DEFAULT_NON_QUOTE_PHRASES,
    DEFAULT_PROMISE_PHRASES, DEFAULT_PUBLIC_DOMAINS, DEFAULT_QUOTE_KEYWORDS,
    DEFAULT_QUOTE_PHRASES, DEFAULT_REQUEST_PHRASES, RESPONSIBLE_ROLES, ROLES, WEEKDAYS, Account,
    Company, Contact, Detection, Digest, Member, Protocol, Schedule, Settings, Smtp, Step, Storage, Team,
    Templates, Web,
)
from assistant.settings.schema import Reader, SettingsError, join_key  # noqa: F401

__all__ = [
    "Account", "Company", "Contact", "Detection", "Digest", "Member", "Protocol", "Schedule", "Settings",
    "SettingsError", "Smtp", "Step", "Storage", "Team", "Templates", "Web", "load_settings",
]
