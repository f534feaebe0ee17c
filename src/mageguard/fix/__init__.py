"""mageguard fix: from a scan's findings to enforcement, as a plan that can be applied and
rolled back (gateway configuration, store configuration, the connector module, patches,
log hygiene, egress rules)."""
