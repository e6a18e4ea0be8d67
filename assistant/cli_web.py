"""Transitional facade: ``serve`` and ``users`` live in :mod:`assistant.cli.web`, the demo's
passwords in :mod:`assistant.demo.pipeline`; removed after the merge of the issue-12
branches."""

from assistant.cli.web import serve, set_password, users  # noqa: F401
from assistant.demo.pipeline import DEMO_PASSWORD, demo_passwords  # noqa: F401

__all__ = ["DEMO_PASSWORD", "demo_passwords", "serve", "set_password", "users"]
