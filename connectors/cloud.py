"""Open the Gmail or Outlook connector of one ``[[accounts]]`` entry (duck-typed: any
object with ``name``, ``kind``, ``oauth``, ``username``, ``host``)."""

from __future__ import annotations

from .base import ConfigurationError


def base_url(host: str | None) -> str | None:
    """``host`` as an API base URL: ``gmail.googleapis.com`` -> ``https://gmail.googleapis.com``;
    a full URL (a loopback test server, ``http://127.0.0.1:8025``) is kept as it is."""
    if not host:
        return None
    return host if "://" in host else f"https://{host}"


def open_cloud_connector(account, **options):
    if not account.oauth:
        raise ConfigurationError(f'account "{account.name}" has no oauth token file; run '
                                 f"`followup accounts add {account.kind} --name {account.name}`")
    if account.kind == "gmail":
        from .gmail import GmailConnector

        return GmailConnector(account.oauth, username=account.username, root_url=base_url(account.host),
                              account=account.name, **options)
    if account.kind == "outlook":
        from .outlook import OutlookConnector

        return OutlookConnector(account.oauth, username=account.username, base_url=base_url(account.host),
                                account=account.name, **options)
    raise ConfigurationError(f'"{account.kind}" is not a cloud mailbox kind (gmail, outlook)')
