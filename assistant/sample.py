"""Transitional facade: the sample generator lives in :mod:`assistant.demo.sample`.

Kept so that ``python -m assistant.sample`` and ``from assistant.sample import ...`` (the
benchmarks, other branches) keep working; removed after the merge of the issue-12 branches.
"""

from assistant.demo.sample import (  # noqa: F401
    ACCOUNT_ORDER, ACCOUNTS, ANA, DEFAULT_BASE, DEMO_THREADS, DOMAIN, LUIS, MARTA, QUOTE_KEYWORDS,
    SHARED, SIG, STEPS, TEAM, TZ, VENTAS, Addr, Msg, SampleInfo, generate_sample, main,
    settings_toml, suggested_now,
)

__all__ = ["ACCOUNT_ORDER", "ACCOUNTS", "ANA", "DEFAULT_BASE", "DEMO_THREADS", "DOMAIN", "LUIS",
           "MARTA", "QUOTE_KEYWORDS", "SHARED", "SIG", "STEPS", "TEAM", "TZ", "VENTAS", "Addr",
           "Msg", "SampleInfo", "generate_sample", "main", "settings_toml", "suggested_now"]

if __name__ == "__main__":
    raise SystemExit(main())
