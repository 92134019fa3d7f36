"""Pure rules of the data hub (stdlib, ``muster.core.messages`` and ``errors`` only).

Imported by the ingest handlers and by ``muster.ingest.formats``.
"""
