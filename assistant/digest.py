"""Transitional facade: the digest moved to :mod:`assistant.services.digest` (issue 12);
this module re-exports its public names until the callers move (the lead removes it)."""

from assistant.services.digest import (  # noqa: F401
    HTML_EXTENSIONS, MAX_ROWS, QUARTER_DAYS, SCENARIO_COLORS, STATUS_COLORS, TEMPLATES,
    AccountSender, Digest, DigestError, DigestSender, Folders, Inputs, Moment, Recipient,
    SendResult, SmtpSender, Snapshot, _claim_digest, _finish_digest, build_digests,
    default_sender, digest_log, environment, file_text, in_scope, load_holds, load_inputs,
    load_strings, output_files, past_moment, recipients, render, scoped, search_path,
    send_digests, sender_for, snapshot, stored_moment, to_message,
)
