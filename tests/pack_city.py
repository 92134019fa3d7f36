"""The Lanjiang example pack in tests: its path, its users as actors, and its layers
ingested as their datasets' records (as ``muster demo`` does)."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from muster.bootstrap import Muster
from muster.core.messages import SYSTEM_ACTOR, Actor
from muster.identity import queries as identity
from muster.ingest.domain.commands import IngestFile
from muster.pack import read_pack

EXAMPLE = Path(str(files("muster") / "examples" / "lanjiang"))


def who(city: Muster, username: str) -> Actor:
    """Return a pack user as the actor they act as."""
    with city.engine.connect() as conn:
        view = identity.get_user_by_username(conn, username)
    assert view is not None
    return view.as_actor()


def load_layers(city: Muster) -> None:
    """Ingest the example layers (roads, flood zones, population grid …)."""
    pack = read_pack(EXAMPLE)
    assert pack.cascades is not None
    for layer in pack.cascades["layers"]:
        outcome = city.bus.handle(
            IngestFile(
                dataset_code=layer["dataset"],
                source="test",
                data=(EXAMPLE / layer["file"]).read_bytes(),
                format="geojson",
            ),
            SYSTEM_ACTOR,
        )
        assert outcome.status == "accepted"


__all__ = ["EXAMPLE", "load_layers", "who"]
