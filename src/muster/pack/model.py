"""The checked contents of a deployment pack as frozen dataclasses (stdlib only).

Built by ``muster.pack.validation.read_pack``; imported by whoever loads a pack.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any


class DepartmentType(StrEnum):
    """Kind of department, as allowed by departments.schema.json."""

    EMERGENCY_MANAGEMENT = "emergency_management"
    FIRE_RESCUE = "fire_rescue"
    PUBLIC_SECURITY = "public_security"
    HEALTH = "health"
    TRANSPORT = "transport"
    WATER_RESOURCES = "water_resources"
    METEOROLOGY = "meteorology"
    NATURAL_RESOURCES = "natural_resources"
    POWER_UTILITY = "power_utility"
    NGO = "ngo"
    GOVERNMENT = "government"
    COMMUNICATIONS = "communications"
    OTHER = "other"


class Role(StrEnum):
    """Role a pack may grant to a user, as allowed by users.schema.json."""

    ADMIN = "admin"
    COMMANDER = "commander"
    DUTY_OFFICER = "duty_officer"
    HEAD = "head"
    ANALYST = "analyst"
    OBSERVER = "observer"


@dataclass(frozen=True, slots=True)
class District:
    """One district or county of the region."""

    code: str
    name_zh: str
    name_en: str
    admin_code: str | None = None


@dataclass(frozen=True, slots=True)
class RegionSpec:
    """The jurisdiction a deployment serves, from region.yaml."""

    code: str
    name_zh: str
    name_en: str
    center_lat: float
    center_lon: float
    districts: tuple[District, ...]
    timezone: str = "Asia/Shanghai"


@dataclass(frozen=True, slots=True)
class DepartmentSpec:
    """One department from departments.yaml; ``parent`` is a department code."""

    code: str
    name_zh: str
    name_en: str
    type: DepartmentType
    parent: str | None = None


@dataclass(frozen=True, slots=True)
class UserSpec:
    """One initial user account from users.yaml."""

    username: str
    display_name: str
    department: str
    roles: tuple[Role, ...]
    language: str = "zh-CN"
    # Demo packs only; kept out of repr so it never lands in logs.
    password: str | None = field(default=None, repr=False)
    email: str | None = None


@dataclass(frozen=True, slots=True)
class FieldSpec:
    """One field of a dataset's schema, from datasets.yaml (enums: the schema's)."""

    name: str
    type: str
    required: bool = False
    sensitivity: str = "none"
    unit: str | None = None
    choices: tuple[str, ...] = ()
    minimum: float | None = None
    maximum: float | None = None
    max_length: int | None = None
    description_zh: str = ""
    description_en: str = ""


@dataclass(frozen=True, slots=True)
class DatasetSpec:
    """One catalog entry from datasets.yaml; ``owner_department`` is a code.

    ``csv_mapping`` holds (CSV header, field name) pairs in file order.
    """

    code: str
    name_zh: str
    name_en: str
    owner_department: str
    fields: tuple[FieldSpec, ...]
    sharing_class: str
    data_grade: str
    update_interval_minutes: int
    format: str
    connector: str
    description: str = ""
    sharing_conditions: str = ""
    legal_basis: str = ""
    feed_url: str | None = None
    csv_mapping: tuple[tuple[str, str], ...] = ()
    csv_encoding: str | None = None
    keywords: tuple[str, ...] = ()


DEFAULT_CHAIN = "*"
"""The department of the default escalation chain (for departments without one)."""


@dataclass(frozen=True, slots=True)
class EscalationStepSpec:
    """Wait ``after_minutes``, then notify the users with role ``notify``."""

    after_minutes: int
    notify: str


@dataclass(frozen=True, slots=True)
class EscalationSpec:
    """One escalation chain from escalation.yaml; department "*" is the default."""

    department: str
    steps: tuple[EscalationStepSpec, ...]
    repeat: int = 1
    repeat_after: int = 10


@dataclass(frozen=True, slots=True)
class CourseSpec:
    """One course from training.yaml: it trains ``role`` at ``tier``."""

    code: str
    title_zh: str
    title_en: str
    role: str
    tier: str
    validity_months: int | None = None


@dataclass(frozen=True, slots=True)
class TrainingRecordSpec:
    """One training record from training.yaml (days are ``YYYY-MM-DD``)."""

    username: str
    course: str
    completed_on: str
    provider: str = ""
    expires_on: str | None = None


@dataclass(frozen=True, slots=True)
class ResourceTypeSpec:
    """One type of the resource typing catalog from resources.yaml."""

    code: str
    name_zh: str
    name_en: str
    kind: str
    unit: str
    measure: str | None = None
    tiers: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ResourceSpec:
    """One department's resource from resources.yaml (capability per unit)."""

    id: str
    department: str
    type: str
    name: str
    quantity: int
    lat: float
    lon: float
    location_name: str = ""
    capability: float | None = None
    tier: str | None = None
    status: str = "available"
    status_reason: str = ""
    ready_minutes: int = 0
    notes: str = ""


@dataclass(frozen=True, slots=True)
class Pack:
    """A deployment pack that passed every check.

    ``plans`` are the documents of plans/*.yaml in file-name order, as checked against
    plans.schema.json and by ``muster.response.domain.plan_check``; they are sent on
    as they are (``RegisterPlan(document=...)``). ``escalation`` lists the default
    chain first (department "*"), if set, then the departments' own chains.
    ``agreements`` are the entries of sharing.yaml as checked against
    sharing.schema.json, sent on as they are (``RegisterAgreement(agreement=...)``);
    the sharing rules (``muster.sharing.domain.agreements``) are applied on loading.
    ``triggers`` is triggers.yaml as checked against triggers.schema.json and
    ``muster.situation.domain.trigger_rules`` (``RegisterTriggerRules``), or None.
    ``cascades`` is cascades.yaml as checked against cascades.schema.json, the
    cascade parser and the catalogue (``RegisterCascadeModel``), or None.
    ``scorecard`` is the weights scorecard.yaml sets, as checked against
    scorecard.schema.json and ``muster.pack.scorecard`` (``SetScorecardWeights``;
    measures left out keep their defaults), or None. ``courses`` and ``training``
    are the courses and records of training.yaml as checked by
    ``muster.pack.training`` (``RegisterCourse``, ``RecordTraining``).
    ``resource_types`` and ``resources`` are the catalog and the resources of
    resources.yaml as checked by ``muster.pack.resources``
    (``RegisterResourceType``, ``RegisterResource``). ``warnings`` is warnings.yaml
    with the region's districts, as checked by ``muster.pack.warnings``
    (``SetWarningTemplates``), or None.
    """

    root: Path
    region: RegionSpec
    departments: tuple[DepartmentSpec, ...]
    users: tuple[UserSpec, ...] = ()
    datasets: tuple[DatasetSpec, ...] = ()
    plans: tuple[dict[str, Any], ...] = ()
    escalation: tuple[EscalationSpec, ...] = ()
    agreements: tuple[dict[str, Any], ...] = ()
    triggers: dict[str, Any] | None = None
    cascades: dict[str, Any] | None = None
    scorecard: dict[str, int] | None = None
    warnings: dict[str, Any] | None = None
    courses: tuple[CourseSpec, ...] = ()
    training: tuple[TrainingRecordSpec, ...] = ()
    resource_types: tuple[ResourceTypeSpec, ...] = ()
    resources: tuple[ResourceSpec, ...] = ()

    def department(self, code: str) -> DepartmentSpec | None:
        """Return the department with this code, or None."""
        return next((d for d in self.departments if d.code == code), None)
