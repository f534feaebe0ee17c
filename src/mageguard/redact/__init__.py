"""The redaction engine: detectors find typed spans of personal, payment, secret and
proprietary data in text; operators transform them (placeholders, mask, hash, drop,
block); a vault restores placeholders in a model's answer, streamed or not.

Detection and transformation are separate layers, as in Presidio: a detector never
changes text, an operator never decides what is sensitive.
"""
