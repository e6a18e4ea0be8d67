"""``python -m assistant.cli``: the same as the ``followup`` command."""

from assistant.cli import main

main(prog_name="followup")
