"""Who receives public warnings, and what each channel carries (pure).

Subscribers are configuration the pack carries: the ``subscribers:`` list of its
``warnings.yaml``, stored whole as the alerting templates document.
``subscribers_from`` reads them; ``warning_notices`` turns one
``alerting.AlertPublished`` into one notice per subscriber whose colours, districts
and channel match — e-mail (subject ``[预警/WARNING] headline``, the texts in the
subscriber's languages and the link to the alert's CAP XML), SMS (per language the
headline and instruction, at most ``SMS_MAX_CHARS`` characters) and signed webhooks
(the CAP XML itself, posted by the delivery tick). Secrets are never here: an entry
names the environment variable holding its webhook secret (``secret_env``).

An alert of CAP status Exercise (every alert of a drill) is an exercise notice,
marked ``[演练/EXERCISE]`` / ``【演练】``; the tick holds it unless the deployment's
channels are live (ADR 0013). Imported by the delivery tick.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from urllib.parse import quote

from muster.alerting.domain.events import AlertPublished
from muster.notify.domain.audience import Cause, Notice
from muster.notify.domain.cap_texts import CapTexts, InfoTexts, read_cap_texts
from muster.notify.domain.model import (
    EXERCISE_PREFIX_EN,
    EXERCISE_PREFIX_ZH,
    Channel,
    notification_id,
)

WARNING_CAUSE = "alerting.AlertPublished"
"""The wire name of the event that sends a public warning out."""
LANGUAGES = ("zh-CN", "en")
WARNING_MARK = "[预警/WARNING] "
EXERCISE_MARK = "[演练/EXERCISE] "
SMS_MAX_CHARS = 140
"""Per language, exercise mark included: a Chinese text of 140 characters is three
concatenated UCS-2 segments of 67; the gateway splits it."""
ALERT_XML_PATH = "/warnings/alerts/{identifier}.xml"
"""Where the public web serves a published alert's CAP XML (``alerting.current``)."""
SUBSCRIBER_CHANNELS = (Channel.EMAIL, Channel.WEBHOOK, Channel.SMS)
_MSG_TYPES = {"Update": ("更新", "Update"), "Cancel": ("解除", "Cancel")}


@dataclass(frozen=True, slots=True)
class Subscriber:
    """A receiver of public warnings over one channel.

    ``address`` is an e-mail address, a webhook URL or a phone number; empty
    ``colours`` or ``districts`` mean every colour or district. ``secret_env`` names
    the environment variable with the webhook's HMAC secret.
    """

    id: str
    channel: Channel
    address: str
    languages: tuple[str, ...] = LANGUAGES
    colours: tuple[str, ...] = ()
    districts: tuple[str, ...] = ()
    secret_env: str = ""

    def wants(
        self, colour: str, admin_codes: Collection[str], districts: Mapping[str, str]
    ) -> bool:
        """Tell whether an alert of this colour over these areas is for this
        subscriber. An alert naming no district reaches every subscriber (a circle
        around an incident cannot be placed in a district here: rather one warning
        too many than one too few)."""
        if self.colours and colour not in self.colours:
            return False
        if not self.districts or not admin_codes:
            return True
        wanted = {code for d in self.districts for code in (d, districts.get(d, d))}
        return bool(wanted & set(admin_codes))


def subscribers_from(document: Mapping[str, object]) -> tuple[Subscriber, ...]:
    """Return the subscribers of a warnings document (``subscribers:``).

    The pack's schema checks the entries; one this cannot read (no id or address,
    an unknown channel) is left out rather than stopping every other delivery.
    """
    entries = document.get("subscribers", [])
    if not isinstance(entries, list):
        return ()
    found: list[Subscriber] = []
    for entry in entries:
        if not isinstance(entry, Mapping):
            continue
        ident = str(entry.get("id") or "").strip()
        address = str(entry.get("address") or "").strip()
        channel = next(
            (c for c in SUBSCRIBER_CHANNELS if c.value == entry.get("channel")), None
        )
        if not ident or not address or channel is None:
            continue
        found.append(
            Subscriber(
                id=ident,
                channel=channel,
                address=address,
                languages=_strings(entry.get("languages")) or LANGUAGES,
                colours=_strings(entry.get("colours")),
                districts=_strings(entry.get("districts")),
                secret_env=str(entry.get("secret_env") or "").strip(),
            )
        )
    return tuple(found)


def find_subscriber(
    subscribers: Iterable[Subscriber], subscriber_id: str, channel: str
) -> Subscriber | None:
    """Return the subscriber with this id on this channel, or None."""
    return next(
        (s for s in subscribers if s.id == subscriber_id and s.channel == channel),
        None,
    )


def district_codes(document: Mapping[str, object]) -> dict[str, str]:
    """Return district code -> GB/T 2260 code from the document's ``districts``."""
    entries = document.get("districts", [])
    codes: dict[str, str] = {}
    for entry in entries if isinstance(entries, list) else []:
        if isinstance(entry, Mapping) and entry.get("code"):
            code = str(entry["code"])
            codes[code] = str(entry.get("admin_code") or code)
    return codes


def is_exercise_warning(event: AlertPublished, cause: Cause) -> bool:
    """Tell whether a published alert is an exercise (CAP status or drill log)."""
    return cause.is_exercise or event.status == "Exercise"


def alert_xml_path(identifier: str) -> str:
    """Return the path of a published alert's CAP XML, by its CAP identifier."""
    return ALERT_XML_PATH.format(identifier=quote(identifier, safe=""))


def warning_notices(
    event: AlertPublished,
    cause: Cause,
    subscribers: Iterable[Subscriber],
    *,
    districts: Mapping[str, str],
    channels: Collection[Channel],
) -> list[Notice]:
    """Return one notice per subscriber the alert is for, on the given channels."""
    texts = read_cap_texts(event.xml)
    exercise = is_exercise_warning(event, cause)
    notices = []
    for subscriber in subscribers:
        if subscriber.channel not in channels or not subscriber.wants(
            event.colour, texts.admin_codes, districts
        ):
            continue
        chosen = _chosen(texts, subscriber.languages)
        zh = next((i for i in chosen if _is_zh(i.language)), None)
        en = next((i for i in chosen if not _is_zh(i.language)), None)
        if zh is None and en is None:  # unreadable XML: the event's headline
            zh = InfoTexts(language="zh-CN", headline=event.headline,
                           description="", instruction="")  # fmt: skip
        body_zh, body_en = _bodies(subscriber.channel, event.msg_type, zh, en)
        body_zh = _marked(body_zh, EXERCISE_PREFIX_ZH, exercise)
        body_en = _marked(body_en, EXERCISE_PREFIX_EN, exercise)
        if subscriber.channel is Channel.SMS:
            body_zh = truncate(body_zh, SMS_MAX_CHARS)
            body_en = truncate(body_en, SMS_MAX_CHARS)
        notices.append(
            Notice(
                notification_id=notification_id(
                    cause_event_id=cause.event_id,
                    channel=subscriber.channel,
                    recipient=subscriber.id,
                ),
                recipient=subscriber.id,
                channel=subscriber.channel,
                subject_zh=_headline(zh, event.msg_type, zh=True),
                subject_en=_headline(en, event.msg_type, zh=False),
                body_zh=body_zh,
                body_en=body_en,
                link=alert_xml_path(event.identifier),
                incident_id=event.incident_id,
                is_exercise=exercise,
            )
        )
    return notices


def warning_subject(subject_zh: str, subject_en: str, *, is_exercise: bool) -> str:
    """Return a warning's subject line: ``[预警/WARNING] 标题 / Headline``."""
    headlines = " / ".join(text for text in (subject_zh, subject_en) if text)
    return f"{EXERCISE_MARK if is_exercise else ''}{WARNING_MARK}{headlines}"


def sms_text(body_zh: str, body_en: str) -> str:
    """Return the SMS text: the Chinese part, then the English one."""
    return "\n".join(text for text in (body_zh, body_en) if text)


def truncate(text: str, limit: int) -> str:
    """Return text cut to ``limit`` characters, ending in "…" when cut."""
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _bodies(
    channel: Channel, msg_type: str, zh: InfoTexts | None, en: InfoTexts | None
) -> tuple[str, str]:
    """Return the Chinese and English bodies (SMS: headline and instruction, cut
    later; webhook: the headlines, as the CAP XML is what is posted)."""
    parts: list[str] = []
    for info, zh_text in ((zh, True), (en, False)):
        if info is None:
            parts.append("")
            continue
        headline = _headline(info, msg_type, zh=zh_text)
        if channel is Channel.SMS:
            joint = "：" if zh_text else ": "
            parts.append(joint.join(t for t in (headline, info.instruction) if t))
        elif channel is Channel.WEBHOOK:
            parts.append(headline)
        else:
            lines = (headline, info.description, info.instruction)
            parts.append("\n\n".join(line for line in lines if line))
    return parts[0], parts[1]


def _headline(info: InfoTexts | None, msg_type: str, *, zh: bool) -> str:
    """Return the headline, after "【更新】" / "[Update] " (or Cancel) when the
    alert updates or cancels an earlier one ("" without the info block)."""
    if info is None:
        return ""
    kind = _MSG_TYPES.get(msg_type)
    if kind is None:
        return info.headline
    return (f"【{kind[0]}】" if zh else f"[{kind[1]}] ") + info.headline


def _chosen(texts: CapTexts, languages: Iterable[str]) -> list[InfoTexts]:
    """Return the info blocks in the subscriber's languages (the first if none)."""
    chosen: list[InfoTexts] = []
    for language in languages:
        base = language.split("-")[0].lower()
        match = texts.info(language) or next(
            (i for i in texts.infos if i.language.split("-")[0].lower() == base), None
        )
        if match is not None and match not in chosen:
            chosen.append(match)
    return chosen or list(texts.infos[:1])


def _is_zh(language: str) -> bool:
    return language.lower().startswith("zh")


def _marked(text: str, mark: str, exercise: bool) -> str:
    return mark + text if exercise and text else text


def _strings(value: object) -> tuple[str, ...]:
    if not isinstance(value, list | tuple):
        return ()
    return tuple(str(item) for item in value if str(item).strip())


__all__ = [
    "ALERT_XML_PATH",
    "EXERCISE_MARK",
    "SMS_MAX_CHARS",
    "WARNING_CAUSE",
    "WARNING_MARK",
    "Subscriber",
    "alert_xml_path",
    "district_codes",
    "find_subscriber",
    "is_exercise_warning",
    "sms_text",
    "subscribers_from",
    "truncate",
    "warning_notices",
    "warning_subject",
]
