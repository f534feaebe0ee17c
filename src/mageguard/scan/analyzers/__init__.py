"""Analyzers for what is not PHP code: XML configuration, frontend JS, deployment config,
composer.lock, and credentials in any text."""
