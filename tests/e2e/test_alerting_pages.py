"""Public warnings on the web, on Lanjiang with its pack loaded: the API (compose,
approve, link, publish, discard; the two-person rule over HTTP), the incident's
warnings page and its forms in Chinese and English, the public /warnings page, the
Atom feed and each alert's CAP XML with conditional GET, and the map layer."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx
import pytest
from lxml import etree

from muster.alerting import queries
from muster.alerting.domain.commands import ApproveAlert, ComposeAlert, PublishAlert
from muster.bootstrap import Muster, bootstrap
from muster.core.clock import SimulatedClock
from muster.core.messages import Actor
from muster.identity import queries as identity
from muster.response.domain.commands import (
    OpenIncident,
    ProposeDecision,
    SignDecision,
)
from muster.settings import Settings
from muster.web.app import create_app
from muster.web.auth import CSRF_HEADER
from tests.e2e.client import WebClient, running_server
from tests.prepared import example_pack, prepared_for

DEMO_PASSWORD = "muster-demo"  # the example pack's demo accounts
NOW = datetime(2026, 11, 26, 4, tzinfo=UTC)
ATOM = "{http://www.w3.org/2005/Atom}"
prepared = prepared_for("city", example_pack(at=NOW))


@pytest.fixture
def city(settings: Settings) -> Iterator[Muster]:
    """Return Lanjiang with its pack loaded (copied from the prepared state)."""
    deployment = bootstrap(settings, clock=SimulatedClock(NOW))
    yield deployment
    deployment.engine.dispose()


People = Callable[..., WebClient]


@pytest.fixture
def served(settings: Settings, city: Muster) -> Iterator[str]:
    """Serve the app on the city; return its base URL."""
    with running_server(create_app(settings, muster=city)) as url:
        yield url


@pytest.fixture
def person(served: str) -> Iterator[People]:
    """Return a function signing people in (closed after the test)."""
    clients: list[WebClient] = []

    def sign_in(username: str) -> WebClient:
        client = WebClient(served)  # the account's language wins
        clients.append(client)
        signed = client.sign_in(username, DEMO_PASSWORD)
        assert signed.status_code == 303, signed.text
        return client

    yield sign_in
    for client in clients:
        client.close()


@pytest.fixture
def public(served: str) -> Iterator[httpx.Client]:
    """Return a client with no session (the public)."""
    with httpx.Client(base_url=served, timeout=30) as client:
        yield client


def who(city: Muster, username: str) -> Actor:
    """Return a pack user as an actor."""
    with city.engine.connect() as conn:
        view = identity.get_user_by_username(conn, username)
    assert view is not None
    return view.as_actor()


def flood(city: Muster) -> str:
    """Open a flood incident on the riverside as the commander."""
    command = OpenIncident(
        title="滨江路内涝", category="NATURAL_DISASTER", latitude=28.2,
        longitude=112.9, type_code="11A00",
    )  # fmt: skip
    return str(city.bus.handle(command, who(city, "commander")))


def publish(city: Muster, incident: str, **fields: object) -> queries.AlertView:
    """Compose (EMB duty), approve (EMB head) and publish an alert; return it."""
    alert_id = city.bus.handle(
        ComposeAlert(incident_id=incident, **fields),  # type: ignore[arg-type]
        who(city, "emb.duty"),
    )
    city.bus.handle(ApproveAlert(alert_id=alert_id), who(city, "emb.head"))
    city.bus.handle(PublishAlert(alert_id=alert_id), who(city, "emb.duty"))
    with city.engine.connect() as conn:
        view = queries.get_alert(conn, alert_id)
    assert view is not None
    return view


def api_post(
    client: WebClient, path: str, body: dict[str, object] | None = None
) -> httpx.Response:
    """POST JSON from a signed-in session (with the CSRF header)."""
    return client.post(path, json=body or {}, headers={CSRF_HEADER: client.csrf_token})


def entries(feed: bytes) -> list[etree._Element]:
    """Return the Atom feed's entries."""
    return etree.fromstring(feed).findall(f"{ATOM}entry")


def test_given_the_api_when_two_people_compose_approve_and_publish_then_it_holds(
    city: Muster, person: People
) -> None:
    """EMB's head composes by API; FIRE may not; the author can neither approve
    (409, two-person rule) nor publish it unapproved (409); a duty officer may not
    approve (403); the commander approves; the author then publishes and gets the
    identifier and XML URL; anonymous callers get 401."""
    incident = flood(city)
    head, duty = person("emb.head"), person("emb.duty")
    commander, fire = person("commander"), person("fire.duty")
    body = {
        "hazard": "rainstorm", "colour": "yellow", "radius_km": 2,
        "districts": ["LJ-DONGHU"], "headline": {"en": "Rain on Binjiang Road"},
    }  # fmt: skip

    made = api_post(head, f"/api/v1/incidents/{incident}/alerts", body)
    alert_id = made.json()["id"]
    refused = api_post(fire, f"/api/v1/incidents/{incident}/alerts", body)
    own_approval = api_post(head, f"/api/v1/alerts/{alert_id}/approve")
    early = api_post(head, f"/api/v1/alerts/{alert_id}/publish")
    not_a_head = api_post(duty, f"/api/v1/alerts/{alert_id}/approve")
    listed = duty.get(f"/api/v1/alerts?incident={incident}").json()
    approved = api_post(
        commander, f"/api/v1/alerts/{alert_id}/approve", {"comment": "ok"}
    )
    published = api_post(head, f"/api/v1/alerts/{alert_id}/publish")
    shown = fire.get(f"/api/v1/alerts/{alert_id}").json()
    anonymous = httpx.get(f"{head.base_url}/api/v1/alerts", timeout=30)

    assert made.status_code == 201, made.text
    assert refused.status_code == 403
    assert own_approval.status_code == 409
    assert own_approval.json()["code"] == "alert_state"
    assert early.status_code == 409
    assert not_a_head.status_code == 403
    assert [(item["id"], item["state"]) for item in listed] == [(alert_id, "draft")]
    assert listed[0]["headline"]["en"] == "Rain on Binjiang Road"
    assert approved.json() == {"result": "approved"}
    assert published.status_code == 200, published.text
    identifier = published.json()["identifier"]
    assert published.json()["xml_url"] == f"/warnings/alerts/{identifier}.xml"
    assert shown["state"] == "published"
    assert shown["approver"] != shown["author"]
    assert shown["xml_url"] == f"/warnings/alerts/{identifier}.xml"
    assert anonymous.status_code == 401
    assert fire.get("/api/v1/alerts/NOPE").status_code == 404


def test_given_a_published_alert_when_the_feed_is_fetched_then_conditional_get(
    city: Muster, public: httpx.Client
) -> None:
    """The public Atom feed lists the alert with a link to its CAP XML; a repeat
    with its ETag or its Last-Modified answers 304; the XML is served as
    application/cap+xml, byte for byte as published, also with 304s."""
    incident = flood(city)
    view = publish(city, incident, hazard="rainstorm", colour="yellow")
    identifier = view.record.content.identifier

    feed = public.get("/warnings/feed.atom")
    etag, modified = feed.headers["etag"], feed.headers["last-modified"]
    by_tag = public.get("/warnings/feed.atom", headers={"If-None-Match": etag})
    by_date = public.get("/warnings/feed.atom", headers={"If-Modified-Since": modified})
    earlier = format_datetime(NOW - timedelta(days=1), usegmt=True)
    stale = public.get("/warnings/feed.atom", headers={"If-Modified-Since": earlier})
    xml = public.get(f"/warnings/alerts/{identifier}.xml")
    xml_tag = public.get(
        f"/warnings/alerts/{identifier}.xml",
        headers={"If-None-Match": xml.headers["etag"]},
    )
    xml_date = public.get(
        f"/warnings/alerts/{identifier}.xml",
        headers={"If-Modified-Since": xml.headers["last-modified"]},
    )

    assert feed.status_code == 200
    assert feed.headers["content-type"].startswith("application/atom+xml")
    [entry] = entries(feed.content)
    link = entry.find(f"{ATOM}link")
    assert link is not None
    assert link.get("type") == "application/cap+xml"
    assert link.get("href", "").endswith(f"/warnings/alerts/{identifier}.xml")
    assert entry.findtext(f"{ATOM}title") == "澜江市发布暴雨黄色预警"
    assert by_tag.status_code == 304
    assert by_tag.content == b""
    assert by_tag.headers["etag"] == etag
    assert by_date.status_code == 304
    assert stale.status_code == 200
    assert xml.status_code == 200
    assert xml.headers["content-type"] == "application/cap+xml"
    assert view.xml is not None
    assert xml.content == view.xml.encode("utf-8")
    assert hashlib.sha256(xml.content).hexdigest() == view.digest
    assert xml_tag.status_code == 304
    assert xml_date.status_code == 304
    assert public.get("/warnings/alerts/MUSTER-none.xml").status_code == 404


def test_given_an_update_then_a_cancel_when_fetched_then_feed_and_map_follow(
    city: Muster, person: People, public: httpx.Client
) -> None:
    """An Update replaces its alert in the feed (the old ETag no longer matches)
    and on the map; after a Cancel the feed carries the Cancel while the map layer
    and the public page show no warning."""
    incident = flood(city)
    first = publish(city, incident, hazard="rainstorm", colour="yellow", radius_km=2)
    reader = person("health.duty")  # an English account
    before = public.get("/warnings/feed.atom")
    layer_before = reader.get("/api/v1/alerts/current.geojson").json()
    second = publish(city, incident, hazard="rainstorm", colour="orange",
                     msg_type="Update", follows=first.record.id)  # fmt: skip
    after = public.get(
        "/warnings/feed.atom", headers={"If-None-Match": before.headers["etag"]}
    )
    layer_after = reader.get("/api/v1/alerts/current.geojson").json()
    publish(city, incident, hazard="rainstorm", colour="orange",
            msg_type="Cancel", follows=second.record.id)  # fmt: skip
    cancelled = public.get("/warnings/feed.atom")
    layer_cancelled = reader.get("/api/v1/alerts/current.geojson").json()
    page = public.get("/warnings", headers={"Accept-Language": "en"})

    [feature] = layer_before["features"]
    assert feature["geometry"] == {"type": "Point", "coordinates": [112.9, 28.2]}
    assert feature["properties"]["radius_km"] == 2
    assert feature["properties"]["colour"] == "yellow"
    assert feature["properties"]["headline"] == "Yellow rainstorm warning for Lanjiang"
    assert feature["properties"]["msg_type_label"] == "New warning"
    assert layer_before["labels"]["layer"] == "Public warnings"
    assert layer_before["legend"]["red"] == "Public warning, Red"
    assert after.status_code == 200
    assert [e.findtext(f"{ATOM}id") for e in entries(after.content)] == [
        f"urn:muster:cap:{second.record.content.sender}:"
        f"{second.record.content.identifier}"
    ]
    assert [f["properties"]["alert_id"] for f in layer_after["features"]] == [
        second.record.id
    ]
    assert layer_after["features"][0]["properties"]["msg_type"] == "Update"
    [entry] = entries(cancelled.content)
    assert 'term="Cancel"' in etree.tostring(entry).decode()
    assert layer_cancelled["features"] == []
    assert "No warnings in force." in page.text


def test_given_an_exercise_alert_when_the_live_feed_is_read_then_it_is_absent(
    settings: Settings, city: Muster
) -> None:
    """An alert published in a drill's sandbox (status Exercise) is in the
    sandbox's feed, but never in the live deployment's feed nor its XML URLs."""
    sandbox = bootstrap(
        settings.model_copy(update={"drill_id": "DRILL-1"}), clock=SimulatedClock(NOW)
    )
    try:
        view = publish(sandbox, flood(sandbox), hazard="rainstorm", colour="blue")
        identifier = view.record.content.identifier
        with running_server(create_app(sandbox.settings, muster=sandbox)) as url:
            drill_feed = httpx.get(f"{url}/warnings/feed.atom", timeout=30)
        with running_server(create_app(settings, muster=city)) as url:
            live_feed = httpx.get(f"{url}/warnings/feed.atom", timeout=30)
            live_xml = httpx.get(f"{url}/warnings/alerts/{identifier}.xml", timeout=30)
    finally:
        sandbox.engine.dispose()

    assert view.record.content.status == "Exercise"
    assert len(entries(drill_feed.content)) == 1
    assert entries(live_feed.content) == []
    assert live_xml.status_code == 404


def test_given_the_warnings_page_when_two_people_use_its_forms_then_the_chain_shows(
    city: Muster, person: People, public: httpx.Client
) -> None:
    """EMB's head (Chinese) drafts a red rainstorm warning on the page and, as its
    author, is offered no Approve (a crafted approval is refused); the commander
    approves; it waits for HEALTH's concurrence, linked from the page to the joint
    decision; once HEALTH concurs the author publishes; FIRE sees no forms; the
    English page, the public page and the incident page's link show it."""
    incident = flood(city)
    author, commander = person("emb.head"), person("commander")
    met, outsider = person("met.duty"), person("fire.duty")
    page_url = f"/incidents/{incident}/warnings"

    drafted = author.post_form(page_url, {
        "template": "rainstorm:red", "radius_km": "3",
        "headline_en": "Red rain on Binjiang Road",
    })  # fmt: skip
    alert_id = drafted.headers["location"].split("#alert-")[1]
    as_author = author.get(drafted.headers["location"])
    own = author.post_form(f"{page_url}/{alert_id}/approve", {})
    as_commander = commander.get(page_url)
    approved = commander.post_form(
        f"{page_url}/{alert_id}/approve", {"comment": "同意"}
    )
    waiting = author.get(page_url)
    decision = city.bus.handle(
        ProposeDecision(incident_id=incident, title="发布就地避险提示",
                        departments=("HEALTH",)),
        who(city, "commander"),
    )  # fmt: skip
    linked = author.post_form(f"{page_url}/{alert_id}/link", {"decision_id": decision})
    city.bus.handle(
        SignDecision(decision_id=decision, position="concur"), who(city, "health.duty")
    )
    ready = author.get(page_url)
    published = author.post_form(f"{page_url}/{alert_id}/publish", {})
    done = author.get(published.headers["location"])
    english = met.get(page_url)
    outside = outsider.get(page_url)
    open_page = public.get("/warnings", headers={"Accept-Language": "zh-CN"})
    incident_page = author.get(f"/incidents/{incident}")

    assert drafted.status_code == 303
    assert "?done=composed" in drafted.headers["location"]
    assert "预警草稿已生成，须由另一人审核。" in as_author.text
    assert 'data-state="draft"' in as_author.text
    assert 'data-action="approve"' not in as_author.text
    assert 'data-action="discard"' in as_author.text
    assert own.status_code == 409
    assert "由您本人起草" in own.text
    assert 'data-action="approve"' in as_commander.text
    assert approved.status_code == 303
    assert "由应急管理局局长 郑国平起草" in waiting.text
    assert "由周振华（市应急指挥部总指挥）审核通过" in waiting.text
    assert "需澜江市卫生健康委员会会商同意" in waiting.text
    assert "等待会商同意：请关联联合决策。" in waiting.text
    assert 'data-action="publish"' not in waiting.text
    assert linked.status_code == 303
    assert 'data-decision-outcome="approved"' in ready.text
    assert 'data-action="publish"' in ready.text
    assert published.status_code == 303
    assert "预警已发布。" in done.text
    assert 'data-state="published"' in done.text
    assert "/warnings/alerts/MUSTER-" in done.text
    assert "发送情况" in done.text
    assert "覆盖人口（估计）" in done.text
    assert "Public warnings" in english.text
    assert "Approval chain" in english.text
    assert "Red rain on Binjiang Road" in english.text
    assert 'id="compose-form"' in english.text  # MET issues warnings too
    assert 'id="compose-form"' not in outside.text
    assert "data-action=" not in outside.text
    assert "澜江市发布暴雨红色预警" in open_page.text
    assert 'href="/warnings/feed.atom"' in open_page.text
    assert f'href="/incidents/{incident}/warnings"' in incident_page.text


def test_given_the_warnings_page_when_a_form_is_refused_or_a_draft_discarded_then_it_says_so(  # noqa: E501
    city: Muster, person: People
) -> None:
    """A radius that is not a number is refused on the page in the author's
    language (422) and the form keeps what was typed; a draft discarded with a
    reason shows as discarded with no more actions; discarding again is refused."""
    incident = flood(city)
    author = person("emb.duty")
    page_url = f"/incidents/{incident}/warnings"

    refused = author.post_form(
        page_url, {"template": "flood:orange", "radius_km": "far", "note": "待定"}
    )
    drafted = author.post_form(page_url, {"template": "flood:orange"})
    alert_id = drafted.headers["location"].split("#alert-")[1]
    discarded = author.post_form(
        f"{page_url}/{alert_id}/discard", {"reason": "重复预警"}
    )
    after = author.get(discarded.headers["location"])
    again = author.post_form(f"{page_url}/{alert_id}/discard", {"reason": "再次"})

    assert refused.status_code == 422
    assert "半径须在 0 到 500 公里之间。" in refused.text
    assert 'value="待定"' in refused.text
    assert discarded.status_code == 303
    assert "预警草稿已作废。" in after.text
    assert 'data-state="discarded"' in after.text
    assert "已作废：重复预警" in after.text
    assert "data-action=" not in after.text
    assert again.status_code == 409
    assert "只有未发布的预警可以作废" in again.text
