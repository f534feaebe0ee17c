"""Capability 5, prove: `mageguard report`, the evidence pack an auditor reads.

One model (report.model.Report) is built from the scan, the gateway's audit store, the
observed flows and the fix plan, then rendered as self-contained HTML (optionally PDF) or
JSON. The model holds categories, counts, paths and hosts, never customer values.
"""
