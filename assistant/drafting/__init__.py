"""Drafting: templates (sandboxed Jinja2), contact details read from mail, and the
draft / link builders. Pure: no database, no connectors."""
