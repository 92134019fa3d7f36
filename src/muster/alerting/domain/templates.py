"""Warning templates (pack ``warnings.yaml``) and composing alert content from them.

A deployment's ``warnings.yaml`` names the CAP sender, the issuing body's names, web
and contact; per hazard the CAP category, event names, an event code, bilingual
headline, description and instruction templates (``{incident}``, ``{area}``,
``{colour}``, ``{expires}`` are filled in) and, per warning colour, the response
types, hours of validity and any text of its own; the **concurrence** rules: which
departments must agree (a joint decision) before an alert with a given response type
goes out (e.g. Shelter → health, Evacuate → police); the issuing departments; and the
districts with their administrative codes (from the pack's region). ``compose``
builds the ``Info`` blocks (zh-CN and en) of an alert.
Pure; imported by the handlers, the pack loader's checks and the pages.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from muster.alerting.domain.errors import AlertInvalid, UnknownTemplate
from muster.alerting.domain.model import (
    CATEGORIES,
    COLOUR_CODES,
    COLOUR_NAMES,
    RESPONSE_TYPES,
    Colour,
    Info,
)

LANGUAGES = ("zh-CN", "en")
EVENT_CODE_LIST = "GB/T 35561"


@dataclass(frozen=True, slots=True)
class ColourTemplate:
    """The texts of one hazard at one colour, per language."""

    headline: Mapping[str, str]
    description: Mapping[str, str]
    instruction: Mapping[str, str]
    response_types: tuple[str, ...]
    expires_hours: float


@dataclass(frozen=True, slots=True)
class HazardTemplate:
    """One hazard's CAP category, event names and colour templates."""

    code: str
    category: str
    event: Mapping[str, str]
    event_code: str | None
    colours: Mapping[Colour, ColourTemplate]


@dataclass(frozen=True, slots=True)
class WarningTemplates:
    """A deployment's warning templates and concurrence rules."""

    sender: str
    sender_name: Mapping[str, str]
    web: str
    contact: str
    hazards: Mapping[str, HazardTemplate]
    concurrence: Mapping[str, tuple[str, ...]]  # response type -> departments
    issuers: tuple[str, ...] = ()  # departments that may issue any warning
    districts: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    """District code -> names (``zh-CN``, ``en``) and ``admin_code`` (geocode)."""

    def template(
        self, hazard: str, colour: Colour
    ) -> tuple[HazardTemplate, ColourTemplate]:
        """Return the hazard and its colour template, or refuse."""
        found = self.hazards.get(hazard)
        if found is None or colour not in found.colours:
            raise UnknownTemplate(
                f"no warning template for {hazard} at {colour.value}",
                hazard=hazard,
                colour=colour.value,
            )
        return found, found.colours[colour]

    def required_departments(self, response_types: Sequence[str]) -> tuple[str, ...]:
        """Return the departments whose concurrence these response types need."""
        needed = {d for kind in response_types for d in self.concurrence.get(kind, ())}
        return tuple(sorted(needed))


def parse_templates(document: Mapping[str, Any]) -> WarningTemplates:
    """Read a ``warnings.yaml`` document (already checked by its JSON Schema)."""
    hazards = {}
    for item in document.get("hazards", []):
        colours = {
            Colour(name): ColourTemplate(
                headline=_texts(entry, "headline", fallback=item),
                description=_texts(entry, "description", fallback=item),
                instruction=_texts(entry, "instruction", fallback=item),
                response_types=tuple(entry.get("response_types", ())),
                expires_hours=float(entry.get("expires_hours", 6)),
            )
            for name, entry in item.get("colours", {}).items()
        }
        hazard = HazardTemplate(
            code=item["code"],
            category=item["category"],
            event=_texts(item, "event"),
            event_code=item.get("event_code"),
            colours=colours,
        )
        if hazard.category not in CATEGORIES:
            raise AlertInvalid(
                f"hazard {hazard.code}: unknown CAP category", field="category"
            )
        for template in colours.values():
            if not set(template.response_types) <= set(RESPONSE_TYPES):
                raise AlertInvalid(
                    f"hazard {hazard.code}: unknown response type",
                    field="response_types",
                )
        hazards[hazard.code] = hazard
    return WarningTemplates(
        sender=document["sender"],
        sender_name=_texts(document, "sender_name"),
        web=document.get("web", ""),
        contact=document.get("contact", ""),
        hazards=hazards,
        concurrence={
            rule["response_type"]: tuple(rule["departments"])
            for rule in document.get("concurrence", [])
        },
        issuers=tuple(document.get("issuers", ())),
        districts={
            item["code"]: {
                "zh-CN": str(item.get("name_zh", item["code"])),
                "en": str(item.get("name_en", item["code"])),
                "admin_code": str(item.get("admin_code") or item["code"]),
            }
            for item in document.get("districts", [])
        },
    )


def _texts(
    entry: Mapping[str, Any], name: str, *, fallback: Mapping[str, Any] | None = None
) -> dict[str, str]:
    """Read ``name_zh`` / ``name_en`` into {language: text}, else the fallback's."""
    spare = fallback or {}
    return {
        language: str(
            entry.get(f"{name}_{suffix}") or spare.get(f"{name}_{suffix}") or ""
        )
        for language, suffix in (("zh-CN", "zh"), ("en", "en"))
    }


@dataclass(frozen=True, slots=True)
class Wording:
    """What fills a template: the incident's title, the area, and overrides."""

    incident: str
    area: Mapping[str, str]
    headline: Mapping[str, str]
    description: Mapping[str, str]
    instruction: Mapping[str, str]


def compose(
    templates: WarningTemplates,
    hazard_code: str,
    colour: Colour,
    wording: Wording,
    *,
    now: datetime,
    response_types: Sequence[str] | None = None,
    expires_hours: float | None = None,
) -> tuple[Info, ...]:
    """Return the alert's info blocks (zh-CN, then en) from the templates."""
    hazard, template = templates.template(hazard_code, colour)
    severity, urgency, certainty = COLOUR_CODES[colour]
    hours = template.expires_hours if expires_hours is None else expires_hours
    expires = now + timedelta(hours=hours)
    kinds = tuple(template.response_types if response_types is None else response_types)
    infos = []
    for language in LANGUAGES:
        zh = language == "zh-CN"
        values = {
            "incident": wording.incident,
            "area": wording.area.get(language, ""),
            "colour": COLOUR_NAMES[colour][0 if zh else 1],
            "expires": expires.strftime("%Y-%m-%d %H:%M UTC"),
        }
        infos.append(
            Info(
                language=language,
                categories=(hazard.category,),
                event=hazard.event[language] or hazard.code,
                urgency=urgency,
                severity=severity,
                certainty=certainty,
                headline=_fill(
                    wording.headline.get(language) or template.headline[language],
                    values,
                ),
                description=_fill(
                    wording.description.get(language) or template.description[language],
                    values,
                ),
                instruction=_fill(
                    wording.instruction.get(language) or template.instruction[language],
                    values,
                ),
                response_types=kinds,
                sender_name=templates.sender_name.get(language, ""),
                web=templates.web,
                contact=templates.contact,
                event_codes=((EVENT_CODE_LIST, hazard.event_code),)
                if hazard.event_code
                else (),
                parameters=(("warning_colour", colour.value),),
                effective=now.isoformat(),
                expires=expires.isoformat(),
            )
        )
    return tuple(infos)


def _fill(text: str, values: Mapping[str, str]) -> str:
    """Fill ``{name}`` fields; unknown fields are left as written."""
    for name, value in values.items():
        text = text.replace("{" + name + "}", value)
    return text


__all__ = [
    "EVENT_CODE_LIST",
    "LANGUAGES",
    "ColourTemplate",
    "HazardTemplate",
    "WarningTemplates",
    "Wording",
    "compose",
    "parse_templates",
]
