"""Transitional facade: the per-account sync engine moved to
:mod:`assistant.services.ingest` (issue 12); the same public names, re-exported."""

from assistant.services.ingest import (JSON_COLUMNS, MAX_BODY_CHARS, PIPELINE_MIN_BATCH,
                                       REFUSE_ALL_MIN, SYNTHETIC_DOMAIN, AccountResult,
                                       BatchOutcome, Location, ensure_account, fingerprint,
                                       has_set_aside, location_of, mark_account, prepare_rows,
                                       store_batch, sync_account, unseen, write_batch)

__all__ = ["AccountResult", "BatchOutcome", "Location", "sync_account", "ensure_account",
           "mark_account", "store_batch", "write_batch", "prepare_rows", "unseen",
           "has_set_aside", "location_of", "fingerprint", "JSON_COLUMNS", "MAX_BODY_CHARS",
           "PIPELINE_MIN_BATCH", "REFUSE_ALL_MIN", "SYNTHETIC_DOMAIN"]
