"""Transitional facade: the service layer moved to :mod:`assistant.services` (issue 12).

The same public names as before, re-exported from their new homes, so code and branches
that import ``assistant.service`` keep working until the lead removes this module:

* :mod:`assistant.services.rules` -- ``rules_from_settings``, ``default_rules``
* :mod:`assistant.services.sync` -- ``sync``, ``open_connector_for``
* :mod:`assistant.services.scan` -- ``scan``, ``scan_from_mail``, ``open_store``,
  ``load_mails``, ``load_marks``, ``load_touches``, ``storage_problems``
* :mod:`assistant.services.inspection` -- ``Inspection``, ``inspect_files``
* :mod:`assistant.domain.parsed` -- ``mail_from_parsed``
* :mod:`assistant.services.ingest` -- ``AccountResult``, ``sync_account``
"""

from assistant.domain.parsed import mail_from_parsed
from assistant.services.ingest import AccountResult, sync_account
from assistant.services.inspection import Inspection, inspect_files
from assistant.services.rules import default_rules, rules_from_settings
from assistant.services.scan import (load_mails, load_marks, load_touches, open_store, scan,
                                     scan_from_mail, storage_problems)
from assistant.services.sync import open_connector_for, sync

__all__ = ["rules_from_settings", "default_rules", "sync", "open_connector_for", "scan",
           "scan_from_mail", "open_store", "load_mails", "load_marks", "load_touches",
           "storage_problems", "Inspection", "inspect_files", "mail_from_parsed",
           "AccountResult", "sync_account"]
