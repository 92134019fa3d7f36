"""Public warnings on a real database with the Lanjiang pack (warnings.yaml) loaded:
compose from a template, the two-person rule, concurrence-gated publication,
immutability, Update/Cancel chains, signatures, and Exercise status in a drill."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from lxml import etree

from muster.alerting import queries
from muster.alerting.domain.commands import (
    ApproveAlert,
    ComposeAlert,
    DiscardAlert,
    LinkConcurrence,
    PublishAlert,
    ReviseAlert,
)
from muster.alerting.domain.errors import AlertInvalid, AlertStateConflict
from muster.bootstrap import Muster, bootstrap
from muster.core.clock import SimulatedClock
from muster.core.errors import PermissionDenied
from muster.ingest.formats.cap import parse_cap
from muster.pack import read_pack
from muster.pack.loader import load_pack
from muster.response.domain.commands import (
    OpenIncident,
    ProposeDecision,
    SignDecision,
)
from muster.settings import Settings
from tests.cli_setup import Run
from tests.pack_city import EXAMPLE, load_layers, who

NOW = datetime(2026, 11, 26, 4, 0, tzinfo=UTC)
CAP = "{urn:oasis:names:tc:emergency:cap:1.2}"


def deploy(settings: Settings) -> Muster:
    """Return a deployment on a simulated clock with the Lanjiang pack loaded."""
    deployment = bootstrap(settings, clock=SimulatedClock(NOW))
    load_pack(deployment, read_pack(EXAMPLE))
    return deployment


@pytest.fixture
def city(settings: Settings) -> Iterator[Muster]:
    """Return the city."""
    deployment = deploy(settings)
    yield deployment
    deployment.engine.dispose()


def flood(city: Muster) -> str:
    """Open a flood incident on the riverside as the commander."""
    return str(
        city.bus.handle(
            OpenIncident(
                title="滨江路内涝",
                category="NATURAL_DISASTER",
                latitude=28.2,
                longitude=112.9,
                type_code="11A00",
            ),
            who(city, "commander"),
        )
    )


def alert(city: Muster, alert_id: str) -> queries.AlertView:
    """Return an alert as stored."""
    with city.engine.connect() as conn:
        view = queries.get_alert(conn, alert_id)
    assert view is not None
    return view


def publish(city: Muster, incident: str, **fields: object) -> str:
    """Compose (EMB duty officer), approve (EMB head) and publish an alert."""
    alert_id = city.bus.handle(
        ComposeAlert(incident_id=incident, **fields),  # type: ignore[arg-type]
        who(city, "emb.duty"),
    )
    city.bus.handle(ApproveAlert(alert_id=alert_id), who(city, "emb.head"))
    city.bus.handle(PublishAlert(alert_id=alert_id), who(city, "emb.duty"))
    return str(alert_id)


class TestCompose:
    def test_given_a_template_when_composed_then_bilingual_cap_with_areas(
        self, city: Muster
    ) -> None:
        """A yellow rainstorm alert: zh-CN and en info blocks from the template,
        colour mapped to Moderate/Expected/Likely, a circle around the incident and
        the district with its GB/T 2260 geocode, population from the grid."""
        load_layers(city)
        incident = flood(city)
        alert_id = city.bus.handle(
            ComposeAlert(
                incident_id=incident,
                hazard="rainstorm",
                colour="yellow",
                radius_km=2,
                districts=("LJ-DONGHU",),
            ),
            who(city, "emb.duty"),
        )
        view = alert(city, alert_id)
        content = view.record.content
        assert [i.language for i in content.infos] == ["zh-CN", "en"]
        zh, en = content.infos
        assert (en.severity, en.urgency, en.certainty) == (
            "Moderate",
            "Expected",
            "Likely",
        )
        assert zh.headline == "澜江市发布暴雨黄色预警"
        assert en.headline == "Yellow rainstorm warning for Lanjiang"
        assert content.areas[0].circles == ("28.20000,112.90000 2",)
        assert content.areas[1].geocodes == (("GB/T 2260", "439904"),)
        assert content.status == "Actual"
        assert view.record.state.value == "draft"
        assert view.population is not None
        assert view.population > 0

    def test_given_a_fire_duty_officer_when_composing_then_refused(
        self, city: Muster
    ) -> None:
        """Only the incident's speaking departments (and commanders) write warnings."""
        incident = flood(city)
        with pytest.raises(PermissionDenied):
            city.bus.handle(
                ComposeAlert(incident_id=incident, hazard="rainstorm", colour="blue"),
                who(city, "fire.duty"),
            )


class TestTwoPersonRule:
    def test_given_a_draft_when_its_author_approves_then_refused(
        self, city: Muster
    ) -> None:
        """The author cannot approve their own alert, nor publish it unapproved;
        another person's approval lets it go out as valid CAP."""
        incident = flood(city)
        author = who(city, "emb.head")
        alert_id = city.bus.handle(
            ComposeAlert(incident_id=incident, hazard="rainstorm", colour="orange"),
            author,
        )
        with pytest.raises(AlertStateConflict, match="two-person"):
            city.bus.handle(ApproveAlert(alert_id=alert_id), author)
        with pytest.raises(AlertStateConflict, match="approval"):
            city.bus.handle(PublishAlert(alert_id=alert_id), author)
        city.bus.handle(ApproveAlert(alert_id=alert_id), who(city, "commander"))
        identifier = city.bus.handle(PublishAlert(alert_id=alert_id), author)
        view = alert(city, alert_id)
        assert view.record.state.value == "published"
        assert view.xml is not None
        parsed = parse_cap(view.xml.encode("utf-8"))
        assert parsed.identifier == identifier

    def test_given_a_published_alert_when_revised_or_discarded_then_refused(
        self, city: Muster
    ) -> None:
        """Published alerts never change: revise and discard are refused."""
        incident = flood(city)
        alert_id = publish(city, incident, hazard="rainstorm", colour="blue")
        with pytest.raises(AlertStateConflict):
            city.bus.handle(
                ReviseAlert(alert_id=alert_id, headline={"en": "changed"}),
                who(city, "emb.duty"),
            )
        with pytest.raises(AlertStateConflict):
            city.bus.handle(
                DiscardAlert(alert_id=alert_id, reason="x"), who(city, "emb.duty")
            )


class TestConcurrence:
    def test_given_a_shelter_alert_when_published_then_it_waits_for_health(
        self, city: Muster
    ) -> None:
        """A red rainstorm alert (Shelter) needs HEALTH's concurrence: unpublishable
        without a linked decision, refused with one not asking HEALTH, then
        publishable once the decision is approved."""
        incident = flood(city)
        commander = who(city, "commander")
        alert_id = city.bus.handle(
            ComposeAlert(incident_id=incident, hazard="rainstorm", colour="red"),
            who(city, "emb.duty"),
        )
        assert alert(city, alert_id).record.required_departments == ("HEALTH",)
        city.bus.handle(ApproveAlert(alert_id=alert_id), commander)
        with pytest.raises(AlertStateConflict, match="HEALTH"):
            city.bus.handle(PublishAlert(alert_id=alert_id), commander)
        wrong = city.bus.handle(
            ProposeDecision(
                incident_id=incident, title="就地避险", departments=("PSB",)
            ),
            commander,
        )
        with pytest.raises(AlertInvalid, match="HEALTH"):
            city.bus.handle(
                LinkConcurrence(alert_id=alert_id, decision_id=wrong), commander
            )
        decision = city.bus.handle(
            ProposeDecision(
                incident_id=incident, title="发布就地避险提示", departments=("HEALTH",)
            ),
            commander,
        )
        city.bus.handle(
            LinkConcurrence(alert_id=alert_id, decision_id=decision), commander
        )
        with pytest.raises(AlertStateConflict, match="not approved"):
            city.bus.handle(PublishAlert(alert_id=alert_id), commander)
        city.bus.handle(
            SignDecision(decision_id=decision, position="concur"),
            who(city, "health.duty"),
        )
        city.bus.handle(PublishAlert(alert_id=alert_id), commander)
        assert alert(city, alert_id).record.state.value == "published"


class TestUpdateAndCancel:
    def test_given_a_published_alert_when_updated_then_cancelled_then_chained(
        self, city: Muster
    ) -> None:
        """An Update references the Alert; a Cancel references both; each
        supersedes the one before; a superseded or cancelled alert cannot be
        followed again; an Alert cannot name one to follow."""
        incident = flood(city)
        first = publish(city, incident, hazard="rainstorm", colour="yellow")
        second = publish(
            city,
            incident,
            hazard="rainstorm",
            colour="orange",
            msg_type="Update",
            follows=first,
        )
        third = publish(
            city,
            incident,
            hazard="rainstorm",
            colour="orange",
            msg_type="Cancel",
            follows=second,
        )
        views = [alert(city, a) for a in (first, second, third)]
        refs = [
            f"{v.record.content.sender},{v.record.content.identifier},{v.record.sent}"
            for v in views
        ]
        assert views[1].record.content.references == (refs[0],)
        assert views[2].record.content.references == (refs[0], refs[1])
        assert [v.record.superseded_by for v in views] == [second, third, None]
        root = etree.fromstring(views[2].xml.encode("utf-8"))  # type: ignore[union-attr]
        assert root.findtext(f"{CAP}msgType") == "Cancel"
        assert root.findtext(f"{CAP}references") == " ".join(refs[:2])
        for follows, kind in ((first, "Update"), (third, "Update")):
            with pytest.raises(AlertStateConflict):
                city.bus.handle(
                    ComposeAlert(
                        incident_id=incident,
                        hazard="rainstorm",
                        colour="blue",
                        msg_type=kind,
                        follows=follows,
                    ),
                    who(city, "emb.duty"),
                )
        with pytest.raises(AlertInvalid):
            city.bus.handle(
                ComposeAlert(
                    incident_id=incident,
                    hazard="rainstorm",
                    colour="blue",
                    follows=third,
                ),
                who(city, "emb.duty"),
            )


class TestSignatureAndExercise:
    def test_given_signing_when_published_then_ingest_verifies_it(
        self, settings: Settings
    ) -> None:
        """With sign_alerts on, the published XML carries a signature Muster's own
        ingest verifies."""
        deployment = deploy(settings.model_copy(update={"sign_alerts": True}))
        try:
            incident = flood(deployment)
            alert_id = publish(deployment, incident, hazard="hazmat", colour="yellow")
            view = alert(deployment, alert_id)
            assert view.signed
            assert view.xml is not None
            parsed = parse_cap(view.xml.encode("utf-8"))
            assert parsed.signature == "valid"
        finally:
            deployment.engine.dispose()

    def test_given_a_drill_sandbox_when_published_then_status_exercise(
        self, settings: Settings
    ) -> None:
        """Events of a drill's deployment are exercise: its alerts say Exercise."""
        deployment = deploy(settings.model_copy(update={"drill_id": "DRILL-1"}))
        try:
            incident = flood(deployment)
            alert_id = publish(deployment, incident, hazard="rainstorm", colour="blue")
            view = alert(deployment, alert_id)
            assert view.record.content.status == "Exercise"
            assert b"<status>Exercise</status>" in (view.xml or "").encode("utf-8")
        finally:
            deployment.engine.dispose()


class TestCli:
    def test_given_the_cli_when_composed_approved_published_then_xml_written(
        self, city: Muster, run: Run, tmp_path: Path
    ) -> None:
        """``muster warnings compose|approve|publish|show --xml`` as two people; the
        author's own approval is refused with a clear message, no traceback."""
        incident = flood(city)
        made = run(
            "warnings",
            "compose",
            incident,
            "flood",
            "yellow",
            "--district",
            "LJ-QINGSHAN",
            "--user",
            "emb.duty",
        )
        assert made.exit_code == 0, made.output
        alert_id = made.output.strip()
        own = run("warnings", "approve", alert_id, "--user", "emb.duty")
        assert own.exit_code != 0
        assert "Traceback" not in own.output
        assert (
            run("warnings", "approve", alert_id, "--user", "commander").exit_code == 0
        )
        published = run("warnings", "publish", alert_id, "--user", "emb.duty")
        assert published.exit_code == 0, published.output
        target = tmp_path / "alert.xml"
        shown = run("warnings", "show", alert_id, "--xml", str(target))
        assert shown.exit_code == 0, shown.output
        assert json.loads(shown.output)["state"] == "published"
        parsed = parse_cap(target.read_bytes())
        assert parsed.identifier == published.output.strip()
        listed = run("warnings", "list", "--incident", incident, "--json")
        assert [item["id"] for item in json.loads(listed.output)] == [alert_id]
