# The README's first two commands: `make demo` and `make test`. Both create and reuse .venv.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test bench fuzz install clean browser dovecot screenshots tryton

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test,postgres]'
	touch $(STAMP)

install: $(STAMP)
	$(COMPILE)

# An editable install leaves the package's byte code to Python, which does not write it
# where PYTHONDONTWRITEBYTECODE is set (as on CI machines): every `followup` would then
# compile its modules again (0.3 s a command on a slow machine). Compiled once here; a
# file changed since is compiled in memory as usual.
COMPILE = $(BIN)/python -m compileall -q -j 0 assistant connectors tests bench >/dev/null

demo: $(STAMP)
	$(COMPILE)
	$(BIN)/followup demo

test: $(STAMP)
	$(COMPILE)
	$(BIN)/python -m pytest -n 2 -q --durations=25

# The browser the web app's end-to-end tests drive (Debian's Chromium; never `playwright install`).
browser:
	command -v chromium >/dev/null 2>&1 || (apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium)

# Every benchmark always runs; the target fails if any missed a target. bench.attachments
# writes a 2 GB Maildir (5 MB attachments) to the temporary folder and removes it after.
# The agreement reports (quotes, message kinds, own text) print per-source figures.
# bench.cloud_sync: a 20,000-message first sync through the Gmail and Graph fakes, requests
# per message, and the resync after an expired cursor.
bench: $(STAMP)
	status=0; \
	$(BIN)/python -m bench.ingest || status=1; \
	$(BIN)/python -m bench.incremental || status=1; \
	$(BIN)/python -m bench.imap || status=1; \
	$(BIN)/python -m bench.cloud_sync || status=1; \
	$(BIN)/python -m bench.attachments || status=1; \
	$(BIN)/python -m bench.quote_agreement || status=1; \
	$(BIN)/python -m bench.corpus_agreement || status=1; \
	$(BIN)/python -m bench.reply_agreement || status=1; \
	$(BIN)/python -m bench.plan || status=1; \
	$(BIN)/python -m bench.pages || status=1; \
	$(BIN)/python -m bench.whatsapp || status=1; \
	exit $$status

# Fuzz parse + classify with Hypothesis for FUZZ_SECONDS (default 60): `make fuzz FUZZ_SECONDS=600`.
# Seeds: tests/fixtures/corpus, fuzz/seeds and FOLLOWUP_CORPUS (default /work/shared/corpus) when present.
FUZZ_SECONDS ?= 60
fuzz: $(STAMP)
	$(BIN)/python -m fuzz.parse_classify --seconds $(FUZZ_SECONDS)

# The digest and a morning list in Chromium at 1280 and 390 px, es and en: docs/screenshots/.
screenshots: $(STAMP)
	$(BIN)/python tools/digest_screenshots.py

clean:
	rm -rf $(VENV) .pytest_cache build *.egg-info

# The IMAP tests and `bench.imap` run a throw-away Dovecot (Debian's dovecot-imapd).
dovecot:
	command -v dovecot >/dev/null || { apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y dovecot-imapd; }

# The CRM tests run a real Tryton (trytond + sale_opportunity from PyPI) in its OWN venv,
# ~/.cache/followup/tryton-venv, and a set-up database cached beside it (tests/tryton.py).
tryton: $(STAMP)
	$(BIN)/python -m tests.tryton install
