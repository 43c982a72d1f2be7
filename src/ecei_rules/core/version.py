"""The engine's version: every record names it, and replay compares it."""

__version__ = "0.2.0"
