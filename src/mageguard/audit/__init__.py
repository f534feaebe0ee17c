"""Capability 4, validate: the gateway's tamper-evident audit log (events hold metadata
only, never content), and the flow audit from network logs (ingest/, flows.py,
incidents.py): AI traffic that went around the gateway, and the deadlines it starts."""
