"""Sharing agreements (stdlib only): what a provider shares, with whom, why, how masked.

``parse_agreement`` turns an agreement's data (pack YAML, the provider's form, an
approved request) into an ``Agreement`` after checking it against its dataset: the
sharing class and data grade set the rules (glossary §7, §8; ADR 0010):

* ``NOT_SHARED`` data leaves its provider only as counts, or as records under the
  emergency legal basis (PIPL Art. 13) while an incident meets its conditions;
* ``CORE`` data needs an agreement that names its consumers (never "all");
* ``IMPORTANT`` and ``CORE`` data need at least one stated purpose;
* personal fields need a legal basis; they are masked unless an agreement says not.

Imported by the sharing handlers, the policy compiler and the pack loader's checks.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from muster.core.messages import JsonValue
from muster.sharing.domain.errors import AgreementInvalid
from muster.sharing.domain.masks import Mask, MaskKind, mask_text, parse_mask

LEGAL_BASES = (
    "CONSENT",
    "CONTRACT_HR",
    "STATUTORY_DUTY",
    "EMERGENCY",
    "NEWS_PUBLIC_INTEREST",
    "PUBLICLY_DISCLOSED",
)
TLP_LABELS = ("CLEAR", "GREEN", "AMBER", "AMBER+STRICT", "RED")
LEVELS_LOW_TO_HIGH = ("L4", "L3", "L2", "L1")
ALL = "*"
PERSONAL = frozenset({"personal", "sensitive_personal"})
AGREEMENT_CODE = re.compile(r"[A-Z][A-Z0-9_]{2,63}")
PURPOSE = re.compile(r"[a-z][a-z0-9_]{1,63}")
DEFAULT_TLP = {"GENERAL": "GREEN", "IMPORTANT": "AMBER", "CORE": "RED"}


class Mode(StrEnum):
    """What an agreement lets through: records (masked) or counts per area only."""

    RECORDS = "records"
    AGGREGATE = "aggregate"


@dataclass(frozen=True, slots=True)
class FieldFacts:
    """What sharing needs to know of one dataset field."""

    name: str
    type: str
    sensitivity: str = "none"


@dataclass(frozen=True, slots=True)
class DatasetFacts:
    """What sharing needs to know of a catalog dataset."""

    code: str
    owner: str
    sharing_class: str
    grade: str
    fields: tuple[FieldFacts, ...]
    format: str = ""

    def field(self, name: str) -> FieldFacts | None:
        """Return the named field, or None."""
        return next((item for item in self.fields if item.name == name), None)

    @property
    def names(self) -> tuple[str, ...]:
        """Return the field names in schema order."""
        return tuple(item.name for item in self.fields)


def default_mask(facts: FieldFacts) -> Mask:
    """Return the mask a field gets when an agreement names none: personal partial,
    sensitive personal hidden, everything else shown."""
    if facts.sensitivity == "sensitive_personal":
        return Mask(MaskKind.HIDE)
    if facts.sensitivity == "personal":
        return Mask(MaskKind.PARTIAL)
    return Mask(MaskKind.NONE)


@dataclass(frozen=True, slots=True)
class IncidentCondition:
    """The incidents under which an agreement applies (a scenario grant)."""

    # GB/T 35561 code prefixes ("11A"; trailing zeros are wildcards as in plans:
    # "11A00" covers 11A01); empty: any
    categories: tuple[str, ...] = ()
    min_level: str = "L4"
    within_km: float | None = None  # records within this distance of the incident

    def level_met(self, level: str | None) -> bool:
        """Tell whether a response level is at or above the condition's."""
        if level not in LEVELS_LOW_TO_HIGH:
            return False
        return LEVELS_LOW_TO_HIGH.index(level) >= LEVELS_LOW_TO_HIGH.index(
            self.min_level
        )

    def category_met(self, type_code: str | None) -> bool:
        """Tell whether an incident's type falls under the condition's categories."""
        if not self.categories:
            return True
        return type_code is not None and any(
            type_code.startswith(_significant(prefix)) for prefix in self.categories
        )


def _significant(prefix: str) -> str:
    """Return a category code without its wildcard trailing zeros ("11A00" -> "11A"),
    the way ``response.domain.plans.covers`` reads a plan's categories."""
    return prefix.rstrip("0") if prefix[:1].isdigit() else prefix


@dataclass(frozen=True, slots=True)
class Agreement:
    """A checked sharing agreement; masks hold every shared field's mask."""

    code: str
    dataset: str
    provider: str
    consumers: tuple[str, ...]
    fields: tuple[str, ...]
    purposes: tuple[str, ...]
    mode: Mode
    masks: Mapping[str, Mask]
    tlp: str
    legal_basis: str | None = None
    legal_text: str = ""
    aggregate_by: str | None = None
    incident: IncidentCondition | None = None
    valid_from: str | None = None
    valid_until: str | None = None
    name_zh: str = ""
    name_en: str = ""

    def for_all(self) -> bool:
        """Tell whether every department is a consumer."""
        return ALL in self.consumers

    def in_force(self, now: datetime) -> bool:
        """Tell whether the agreement's validity window holds at ``now``."""
        if self.valid_from is not None and now < _parse_time(self.valid_from):
            return False
        return self.valid_until is None or now < _parse_time(self.valid_until)

    def to_data(self) -> dict[str, JsonValue]:
        """Return the agreement as data (the event payload, read by parse_agreement)."""
        data: dict[str, JsonValue] = {
            "code": self.code,
            "dataset": self.dataset,
            "provider": self.provider,
            "consumers": list(self.consumers),
            "fields": list(self.fields),
            "purposes": list(self.purposes),
            "mode": self.mode.value,
            "masks": {name: mask_text(mask) for name, mask in self.masks.items()},
            "tlp": self.tlp,
            "legal_basis": self.legal_basis,
            "legal_text": self.legal_text,
            "aggregate_by": self.aggregate_by,
            "valid_from": self.valid_from,
            "valid_until": self.valid_until,
            "name_zh": self.name_zh,
            "name_en": self.name_en,
        }
        if self.incident is not None:
            data["conditions"] = {
                "incident": {
                    "categories": list(self.incident.categories),
                    "min_level": self.incident.min_level,
                    "within_km": self.incident.within_km,
                }
            }
        return data


def agreement_from_data(data: Mapping[str, JsonValue]) -> Agreement:
    """Rebuild an agreement from ``to_data``'s output (checked when registered)."""
    conditions = data.get("conditions") or {}
    incident = conditions.get("incident") if isinstance(conditions, Mapping) else None
    masks = data.get("masks") or {}
    return Agreement(
        code=str(data["code"]),
        dataset=str(data["dataset"]),
        provider=str(data.get("provider") or ""),
        consumers=tuple(data.get("consumers") or ()),
        fields=tuple(data.get("fields") or ()),
        purposes=tuple(data.get("purposes") or ()),
        mode=Mode(str(data.get("mode") or "records")),
        masks={str(k): parse_mask(str(v)) for k, v in dict(masks).items()},
        tlp=str(data.get("tlp") or "AMBER"),
        legal_basis=data.get("legal_basis"),
        legal_text=str(data.get("legal_text") or ""),
        aggregate_by=data.get("aggregate_by"),
        incident=None
        if not isinstance(incident, Mapping)
        else IncidentCondition(
            categories=tuple(incident.get("categories") or ()),
            min_level=str(incident.get("min_level") or "L4"),
            within_km=incident.get("within_km"),
        ),
        valid_from=data.get("valid_from"),
        valid_until=data.get("valid_until"),
        name_zh=str(data.get("name_zh") or ""),
        name_en=str(data.get("name_en") or ""),
    )


def parse_agreement(
    data: Mapping[str, JsonValue],
    dataset: DatasetFacts,
    *,
    departments: frozenset[str],
) -> Agreement:
    """Check an agreement's data against its dataset; return it or refuse it."""
    code = _text(data, "code")
    if not AGREEMENT_CODE.fullmatch(code):
        raise _refuse(
            code, "code", "a code is an upper-case letter, then 2-63 of A-Z, 0-9, _"
        )
    consumers = _strings(data, "consumers", code)
    unknown = sorted(set(consumers) - departments - {ALL})
    if not consumers or unknown:
        raise _refuse(
            code,
            "consumers",
            f"unknown or missing consumer department(s): {', '.join(unknown) or '-'}",
        )
    mode = _mode(data, code)
    fields = _fields(data, dataset, code, mode)
    purposes = _strings(data, "purposes", code)
    if bad := [item for item in purposes if not PURPOSE.fullmatch(item)]:
        raise _refuse(
            code,
            "purposes",
            f"a purpose is a lower-case word like evacuation: {bad[0]!r}",
        )
    incident = _incident(data, code)
    legal_basis = data.get("legal_basis")
    if legal_basis is not None and legal_basis not in LEGAL_BASES:
        raise _refuse(
            code, "legal_basis", f"legal_basis is one of {', '.join(LEGAL_BASES)}"
        )
    aggregate_by = data.get("aggregate_by")
    if mode == Mode.AGGREGATE and (
        not isinstance(aggregate_by, str) or dataset.field(aggregate_by) is None
    ):
        raise _refuse(
            code, "aggregate_by", "counts need aggregate_by: a field of the dataset"
        )
    agreement = Agreement(
        code=code,
        dataset=dataset.code,
        provider=dataset.owner,
        consumers=consumers,
        fields=fields,
        purposes=purposes,
        mode=mode,
        masks=_masks(data, dataset, fields, code),
        tlp=_tlp(data, dataset, code),
        legal_basis=legal_basis if isinstance(legal_basis, str) else None,
        legal_text=str(data.get("legal_text") or ""),
        aggregate_by=aggregate_by if mode == Mode.AGGREGATE else None,
        incident=incident,
        valid_from=_time(data, "valid_from", code),
        valid_until=_time(data, "valid_until", code),
        name_zh=str(data.get("name_zh") or ""),
        name_en=str(data.get("name_en") or ""),
    )
    _check_rules(agreement, dataset)
    return agreement


def _check_rules(agreement: Agreement, dataset: DatasetFacts) -> None:
    code = agreement.code
    if (
        agreement.valid_from
        and agreement.valid_until
        and _parse_time(agreement.valid_until) <= _parse_time(agreement.valid_from)
    ):
        raise _refuse(code, "valid_until", "valid_until must be after valid_from")
    if agreement.provider in agreement.consumers:
        raise _refuse(
            code, "consumers", "the provider reads its own data without an agreement"
        )
    personal = agreement.mode == Mode.RECORDS and any(
        (facts := dataset.field(name)) is not None and facts.sensitivity in PERSONAL
        for name in agreement.fields
    )
    if personal and agreement.legal_basis is None:
        raise _refuse(
            code,
            "legal_basis",
            "sharing personal fields needs a legal_basis (PIPL Art. 13)",
        )
    if dataset.grade in ("IMPORTANT", "CORE") and not agreement.purposes:
        raise _refuse(
            code, "purposes", f"{dataset.grade} data is shared only for stated purposes"
        )
    if dataset.grade == "CORE" and agreement.for_all():
        raise _refuse(
            code, "consumers", "CORE data needs an agreement naming each consumer"
        )
    if (
        dataset.sharing_class == "NOT_SHARED"
        and agreement.mode == Mode.RECORDS
        and (agreement.legal_basis != "EMERGENCY" or agreement.incident is None)
    ):
        raise _refuse(
            code,
            "mode",
            f"{dataset.code} is not shared (不予共享): only counts, or records "
            "under the "
            "EMERGENCY legal basis while an incident meets the agreement's conditions",
        )


def _mode(data: Mapping[str, JsonValue], code: str) -> Mode:
    try:
        return Mode(str(data.get("mode") or "records"))
    except ValueError:
        raise _refuse(code, "mode", "mode is records or aggregate") from None


def _fields(
    data: Mapping[str, JsonValue], dataset: DatasetFacts, code: str, mode: Mode
) -> tuple[str, ...]:
    if mode == Mode.AGGREGATE:
        return ()
    names = _strings(data, "fields", code) or (ALL,)
    if names == (ALL,):
        return dataset.names
    if unknown := [name for name in names if dataset.field(name) is None]:
        raise _refuse(code, "fields", f"{dataset.code} has no field {unknown[0]!r}")
    return tuple(name for name in dataset.names if name in names)


def _masks(
    data: Mapping[str, JsonValue],
    dataset: DatasetFacts,
    fields: Sequence[str],
    code: str,
) -> dict[str, Mask]:
    given = data.get("masks") or {}
    if not isinstance(given, Mapping):
        raise _refuse(code, "masks", "masks maps a field to a mask")
    masks: dict[str, Mask] = {}
    for name, text in given.items():
        facts = dataset.field(str(name))
        if facts is None or name not in fields:
            raise _refuse(
                code, "masks", f"mask for {name!r}, which the agreement does not share"
            )
        try:
            mask = parse_mask(str(text))
        except ValueError as error:
            raise _refuse(code, "masks", f"{name}: {error}") from None
        if mask.kind == MaskKind.GRID and facts.type not in ("point", "geometry"):
            raise _refuse(code, "masks", f"{name}: grid masks apply to locations only")
        masks[str(name)] = mask
    for name in fields:
        facts = dataset.field(name)
        if name not in masks and facts is not None:
            masks[name] = default_mask(facts)
    return masks


def _tlp(data: Mapping[str, JsonValue], dataset: DatasetFacts, code: str) -> str:
    tlp = str(data.get("tlp") or DEFAULT_TLP.get(dataset.grade, "AMBER")).upper()
    tlp = tlp.removeprefix("TLP:")
    if tlp not in TLP_LABELS:
        raise _refuse(code, "tlp", f"tlp is one of {', '.join(TLP_LABELS)}")
    return tlp


def _incident(data: Mapping[str, JsonValue], code: str) -> IncidentCondition | None:
    conditions = data.get("conditions") or {}
    if not isinstance(conditions, Mapping):
        raise _refuse(code, "conditions", "conditions is a mapping")
    incident = conditions.get("incident")
    if incident is None:
        return None
    if not isinstance(incident, Mapping):
        raise _refuse(code, "conditions", "conditions.incident is a mapping")
    level = str(incident.get("min_level") or "L4")
    if level not in LEVELS_LOW_TO_HIGH:
        raise _refuse(code, "conditions", "min_level is one of L4, L3, L2, L1")
    within = incident.get("within_km")
    if within is not None and (
        not isinstance(within, int | float)
        or isinstance(within, bool)
        or not 0 < within <= 500
    ):
        raise _refuse(
            code,
            "conditions",
            "within_km is a distance in km, more than 0 and at most 500",
        )
    categories = incident.get("categories") or []
    if not isinstance(categories, list) or not all(
        isinstance(c, str) for c in categories
    ):
        raise _refuse(code, "conditions", "categories is a list of GB/T 35561 codes")
    return IncidentCondition(
        categories=tuple(categories),
        min_level=level,
        within_km=float(within) if within is not None else None,
    )


def _time(data: Mapping[str, JsonValue], key: str, code: str) -> str | None:
    value = data.get(key)
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        value = value.isoformat()
    try:
        moment = _parse_time(str(value))
    except ValueError:
        raise _refuse(code, key, f"{key} is an ISO-8601 time with its offset") from None
    return moment.isoformat().replace("+00:00", "Z")


def _parse_time(text: str) -> datetime:
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        raise ValueError("a time needs its UTC offset")
    return moment


def _text(data: Mapping[str, JsonValue], key: str) -> str:
    value = data.get(key)
    return value.strip() if isinstance(value, str) else ""


def _strings(data: Mapping[str, JsonValue], key: str, code: str) -> tuple[str, ...]:
    value = data.get(key) or []
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise _refuse(code, key, f"{key} is a list of text")
    return tuple(item.strip() for item in value)


def _refuse(code: str, key: str, message: str) -> AgreementInvalid:
    return AgreementInvalid(
        f"agreement {code or '?'}: {message}", field=key, agreement=code
    )


__all__ = [
    "ALL",
    "LEGAL_BASES",
    "LEVELS_LOW_TO_HIGH",
    "TLP_LABELS",
    "Agreement",
    "DatasetFacts",
    "FieldFacts",
    "IncidentCondition",
    "Mode",
    "agreement_from_data",
    "default_mask",
    "parse_agreement",
]
