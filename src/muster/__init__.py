"""Muster: cross-department emergency coordination on one tamper-evident event log."""

__version__ = "0.1.0"
