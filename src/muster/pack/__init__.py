"""Deployment packs: a folder of YAML files describing region, departments, users,
datasets, escalation chains and plans.

``read_pack`` reads and checks a pack and returns a ``Pack`` (``check_pack`` returns
the problems instead of raising); it touches no database and imports no other part
beyond the pure plan rules of ``muster.response.domain.plan_check``. Imported by
bootstrap and the CLIs.
"""

from __future__ import annotations

from muster.pack.model import Pack
from muster.pack.validation import PackCheck, check_pack, read_pack

__all__ = ["Pack", "PackCheck", "check_pack", "read_pack"]
