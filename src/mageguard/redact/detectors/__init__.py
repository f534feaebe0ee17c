"""Detectors: one per entity family, each data (patterns, context words, checksums in
`redact/data/`) plus a tiny function. `builtin_detectors()` lists the built-ins once."""
