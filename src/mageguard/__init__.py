"""mageguard: find and shut the paths by which a Magento store's AI features leak data."""

__version__ = "0.1.0"
