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
    """``account.sync_days`` (when the entry has it) bounds a first sync to that many days
    back; 0 or ``None`` reads the whole mailbox."""
    options.setdefault("sync_days", getattr(account, "sync_days", None))
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


# XOAUTH2 over IMAP needs IMAP scopes, not the REST APIs' ones:
# Google: https://developers.google.com/gmail/imap/xoauth2-protocol ("https://mail.google.com/");
# Microsoft: https://learn.microsoft.com/exchange/client-developer/legacy-protocols/how-to-authenticate-an-imap-pop-smtp-application-by-using-oauth
GOOGLE_IMAP_SCOPES = ("https://mail.google.com/",)
MICROSOFT_IMAP_DELEGATED_SCOPES = ("https://outlook.office.com/IMAP.AccessAsUser.All",)
MICROSOFT_IMAP_APP_SCOPES = ("https://outlook.office365.com/.default",)


def sign_in_scopes(kind: str, *, imap: bool = False) -> tuple[str, ...]:
    """The scopes ``followup accounts add`` asks for: exactly what the connector that will
    use the token needs (a token granted the REST API's scopes cannot be refreshed for
    IMAP's, and the other way round: Google answers ``invalid_scope``)."""
    if kind == "gmail":
        from .gmail import SIGN_IN_SCOPES

        return GOOGLE_IMAP_SCOPES if imap else SIGN_IN_SCOPES
    from .outlook import DELEGATED_SCOPES, SEND_SCOPES

    return MICROSOFT_IMAP_DELEGATED_SCOPES if imap else DELEGATED_SCOPES + SEND_SCOPES


def _check_granted(info: dict, wanted: tuple[str, ...], account) -> None:
    granted = info.get("scopes")
    if isinstance(granted, str):
        granted = granted.split()
    if granted and not set(wanted) <= set(granted):
        raise ConfigurationError(
            f'account "{account.name}": token file {account.oauth} was signed in for the '
            f"{'Gmail API' if 'gmail' in ' '.join(granted) else 'Graph API'}, not IMAP; run "
            f"`followup accounts add {'gmail' if info.get('provider') != 'microsoft' else 'outlook'} "
            f"--imap --name {account.name}` to sign in for IMAP")


def imap_token_provider(account):
    """The ``() -> access token`` callable an IMAP account with ``oauth`` signs in with.

    The token file says whose it is: a Followup Microsoft token file (``"flow"``: device
    or client_credentials) or a Google one (an authorized-user token or a service-account
    key, which then acts as the account's ``username``)."""
    import json

    from ._cloud import read_secret_file

    path = account.oauth
    try:
        info = json.loads(read_secret_file(path, fix=f"run `followup accounts add` for {account.name}"))
    except ValueError:
        raise ConfigurationError(f'account "{account.name}": token file {path} is not JSON') from None
    if info.get("provider") == "microsoft" or "flow" in info:
        from .outlook import MicrosoftTokenProvider

        scopes = (MICROSOFT_IMAP_APP_SCOPES if info.get("flow") == "client_credentials"
                  else MICROSOFT_IMAP_DELEGATED_SCOPES)
        if info.get("flow") != "client_credentials":
            _check_granted(info, scopes, account)
        return MicrosoftTokenProvider(path, account=account.name, username=account.username,
                                      scopes=scopes)
    from .gmail import GoogleTokenProvider

    if info.get("type") != "service_account":
        _check_granted(info, GOOGLE_IMAP_SCOPES, account)
    subject = account.username if info.get("type") == "service_account" else None
    return GoogleTokenProvider(path, subject=subject, account=account.name, scopes=GOOGLE_IMAP_SCOPES)
