"""Deployment packs: a folder of YAML files describing region, departments and users.

``read_pack`` reads and checks a pack and returns a ``Pack``; it imports nothing from
other parts and touches no database. Imported by bootstrap and the CLI.
"""

from __future__ import annotations

from muster.pack.model import Pack
from muster.pack.validation import read_pack

__all__ = ["Pack", "read_pack"]
