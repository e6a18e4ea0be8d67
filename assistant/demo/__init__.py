"""The demo: the sample generator (:mod:`assistant.demo.sample`, a deterministic team
mailbox of any size) and the pipeline ``followup demo`` runs on it
(:mod:`assistant.demo.pipeline`)."""
