"""Transitional facade: ``followup accounts`` lives in :mod:`assistant.cli.accounts`;
removed after the merge of the issue-12 branches."""

from assistant.cli.accounts import (  # noqa: F401
    SET_ASIDE_SHOWN, accounts, add_account, list_accounts, test_account,
)

__all__ = ["SET_ASIDE_SHOWN", "accounts", "add_account", "list_accounts", "test_account"]
