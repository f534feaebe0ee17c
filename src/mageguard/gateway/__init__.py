"""Capability 3, enforce: the sovereign AI gateway Magento's AI modules talk to instead
of external providers (OpenAI and Anthropic protocols, redaction, routing, audit)."""
