"""atm: the Asset Transfer Manager command line."""

__version__ = "0.1.0"
