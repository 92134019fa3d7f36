"""The data hub: catalog, connectors, validation, quarantine and data quality.

Subpackages: ``domain`` (pure rules), ``formats`` (parsers for incoming bytes).
"""
