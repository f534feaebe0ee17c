"""Capability 1, discover: a static scan of a Magento tree and its database for the paths
by which AI features leak data. Entry point: `mageguard.scan.engine.scan`."""
