"""Capability 4, validate: the gateway's tamper-evident audit log (and, later, log
ingestion). Events hold metadata only, never content."""
