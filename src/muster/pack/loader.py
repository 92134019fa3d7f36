"""Load a checked pack into the log: departments, users, datasets, escalation chains,
plans, then sharing agreements, trigger rules, the cascade model, the scorecard
weights, training courses and records, resource types and resources; all or nothing.

Every command of a load runs in one shared transaction, so a failure part-way leaves
the log and the read models exactly as they were. Imported by the CLI and tests.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from sqlalchemy import Engine
from yaml.nodes import Node

from muster.alerting.domain.commands import SetWarningTemplates
from muster.catalog.domain.commands import (
    DatasetField,
    DatasetMetadata,
    RegisterDataset,
)
from muster.catalog.domain.model import check_dataset
from muster.core.bus import MessageBus
from muster.core.errors import PackInvalid, PackProblem, ValidationFailed
from muster.core.messages import SYSTEM_ACTOR, Command
from muster.identity import queries
from muster.identity.domain.commands import RegisterDepartment, RegisterUser
from muster.identity.domain.errors import InvalidUserData
from muster.identity.domain.model import check_new_user
from muster.pack.model import (
    DEFAULT_CHAIN,
    CourseSpec,
    DatasetSpec,
    DepartmentSpec,
    EscalationSpec,
    Pack,
    TrainingRecordSpec,
    UserSpec,
)
from muster.pack.resources import load_problems as resource_problems
from muster.pack.resources import resource_command, type_command
from muster.pack.training import record_problems
from muster.pack.validation import DATASETS, SHARING, USERS
from muster.pack.yaml_lines import YamlRefusedError, line_of, line_of_key, load_yaml
from muster.resources import queries as resource_queries
from muster.resources.domain.commands import RegisterResource, RegisterResourceType
from muster.response.domain.commands import RegisterPlan, SetEscalationChain
from muster.review.domain.settings import SetScorecardWeights
from muster.sharing.domain.agreements import DatasetFacts, FieldFacts, parse_agreement
from muster.sharing.domain.commands import RegisterAgreement
from muster.sharing.domain.errors import AgreementInvalid
from muster.situation.domain.cascade_events import RegisterCascadeModel
from muster.situation.domain.commands import RegisterTriggerRules
from muster.training import queries as training_queries
from muster.training.domain.commands import RecordTraining, RegisterCourse

Progress = Callable[[str], None]


class Deployment(Protocol):
    """What loading needs from a deployment (``muster.bootstrap.Muster`` fits)."""

    @property
    def bus(self) -> MessageBus:
        """Return the message bus."""
        ...

    @property
    def engine(self) -> Engine:
        """Return the database engine."""
        ...


@dataclass(slots=True)
class KindCounts:
    """How many things of one kind a load created, updated or left unchanged."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0

    def add(self, outcome: str) -> None:
        """Count one outcome: "created", "updated" or "unchanged"."""
        setattr(self, outcome, getattr(self, outcome) + 1)

    def to_json(self) -> dict[str, int]:
        """Return the counts as a JSON object."""
        return {
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
        }


@dataclass(slots=True)
class LoadSummary:
    """What a load did, per kind of thing."""

    region: str
    departments: KindCounts = field(default_factory=KindCounts)
    users: KindCounts = field(default_factory=KindCounts)
    datasets: KindCounts = field(default_factory=KindCounts)
    escalation: KindCounts = field(default_factory=KindCounts)
    plans: KindCounts = field(default_factory=KindCounts)
    agreements: KindCounts = field(default_factory=KindCounts)
    triggers: KindCounts = field(default_factory=KindCounts)
    cascades: KindCounts = field(default_factory=KindCounts)
    scorecard: KindCounts = field(default_factory=KindCounts)
    warnings: KindCounts = field(default_factory=KindCounts)
    courses: KindCounts = field(default_factory=KindCounts)
    training: KindCounts = field(default_factory=KindCounts)
    resource_types: KindCounts = field(default_factory=KindCounts)
    resources: KindCounts = field(default_factory=KindCounts)

    def kinds(self) -> dict[str, KindCounts]:
        """Return the counts of each kind, by name, in loading order."""
        return {
            "departments": self.departments,
            "users": self.users,
            "datasets": self.datasets,
            "escalation": self.escalation,
            "plans": self.plans,
            "agreements": self.agreements,
            "triggers": self.triggers,
            "cascades": self.cascades,
            "scorecard": self.scorecard,
            "warnings": self.warnings,
            "courses": self.courses,
            "training": self.training,
            "resource_types": self.resource_types,
            "resources": self.resources,
        }

    @property
    def is_unchanged(self) -> bool:
        """Tell whether the load wrote nothing (the pack was already loaded)."""
        kinds = self.kinds().values()
        return not any(kind.created or kind.updated for kind in kinds)

    def to_json(self) -> dict[str, Any]:
        """Return the summary as ``muster load --json`` prints it."""
        counts = {name: kind.to_json() for name, kind in self.kinds().items()}
        return {"region": self.region, **counts}


def load_pack(
    muster: Deployment, pack: Pack, *, progress: Progress | None = None
) -> LoadSummary:
    """Register the pack's departments (parents first), new users, datasets,
    escalation chains, plans, sharing agreements, trigger rules, the cascade model
    and the scorecard weights in one transaction.

    Users whose username already exists are left as they are and counted unchanged.
    A new user without a password, or a user, dataset or agreement the rules refuse,
    fails the whole load with ``PackInvalid`` before anything is written. The region
    is not recorded yet: no event describes it (a later change adds one).
    """
    with muster.engine.connect() as conn:
        existing = {user.username for user in queries.list_users(conn)}
        courses = {course.code for course in training_queries.list_courses(conn)}
        types = {item.code: item for item in resource_queries.list_types(conn)}
    new_users = [user for user in pack.users if user.username not in existing]
    today = training_queries.local_today(
        muster.bus.context.clock.now(), ZoneInfo(pack.region.timezone)
    )
    problems = [
        *_new_user_problems(pack, new_users),
        *dataset_problems(pack),
        *agreement_problems(pack),
        *record_problems(pack, users=existing, courses=courses, today=today),
        *resource_problems(pack, loaded=types),
    ]
    if problems:
        raise PackInvalid(problems)
    summary = LoadSummary(region=pack.region.code)
    batches: list[tuple[KindCounts | None, list[Command]]] = [
        (
            summary.departments,
            [_department_command(d) for d in _parents_first(pack.departments)],
        ),
        (None, [_user_command(user) for user in new_users]),
        (summary.datasets, [_dataset_command(dataset) for dataset in pack.datasets]),
        (summary.escalation, [_chain_command(chain) for chain in pack.escalation]),
        (summary.plans, [RegisterPlan(document=plan) for plan in pack.plans]),
        (
            summary.agreements,
            [RegisterAgreement(agreement=a, source="pack") for a in pack.agreements],
        ),
        (
            summary.triggers,
            [RegisterTriggerRules(document=pack.triggers)]
            if pack.triggers is not None
            else [],
        ),
        (
            summary.cascades,
            [RegisterCascadeModel(document=pack.cascades)]
            if pack.cascades is not None
            else [],
        ),
        (
            summary.scorecard,
            [SetScorecardWeights(weights=pack.scorecard)]
            if pack.scorecard is not None
            else [],
        ),
        (
            summary.warnings,
            [SetWarningTemplates(document=pack.warnings)]
            if pack.warnings is not None
            else [],
        ),
        (summary.courses, [_course_command(course) for course in pack.courses]),
        (summary.training, [_training_command(record) for record in pack.training]),
        (summary.resource_types, [type_command(t) for t in pack.resource_types]),
        (summary.resources, [resource_command(r) for r in pack.resources]),
    ]
    commands = [command for _, batch in batches for command in batch]
    outcomes = iter(run_in_one_transaction(muster.bus, commands, progress=progress))
    for counts, batch in batches:
        for _ in batch:
            outcome = next(outcomes)
            if counts is not None:  # users: counted below, RegisterUser gives an id
                counts.add(outcome)
    summary.users.created = len(new_users)
    summary.users.unchanged = len(pack.users) - len(new_users)
    return summary


def run_in_one_transaction(
    bus: MessageBus, commands: Sequence[Command], *, progress: Progress | None = None
) -> list[Any]:
    """Run commands as Muster itself in one transaction; return their results."""
    describe = None
    if progress is not None:
        report = progress

        def describe(command: Command, result: object) -> None:
            report(_describe(command, result))

    return bus.handle_batch(commands, SYSTEM_ACTOR, on_each=describe)


def _parents_first(departments: Sequence[DepartmentSpec]) -> list[DepartmentSpec]:
    """Order departments so that each follows its parent (packs have no cycles)."""
    ordered: list[DepartmentSpec] = []
    placed: set[str] = set()
    pending = list(departments)
    while pending:
        ready = [d for d in pending if d.parent is None or d.parent in placed]
        if not ready:  # unreachable for a validated pack; keep the rest as listed
            ready = pending
        ordered.extend(ready)
        placed.update(d.code for d in ready)
        pending = [d for d in pending if d.code not in placed]
    return ordered


def _new_user_problems(pack: Pack, new_users: Sequence[UserSpec]) -> list[PackProblem]:
    """Find new users that cannot be registered: no password, or refused by rules."""
    problems: list[PackProblem] = []
    indexes = {user.username: index for index, user in enumerate(pack.users)}
    root = _file_root(pack, USERS) if new_users else None
    for user in new_users:
        line = line_of(root, ["users", indexes[user.username]])
        if user.password is None:
            message = (
                f"user '{user.username}' does not exist yet and has no password; "
                "add one or create the account with `muster users add`"
            )
            problems.append(PackProblem(USERS, line, message))
            continue
        try:
            check_new_user(
                username=user.username,
                roles=tuple(role.value for role in user.roles),
                language=user.language,
                password=user.password,
            )
        except InvalidUserData as refused:
            message = f"user '{user.username}': {refused.message}"
            problems.append(PackProblem(USERS, line, message))
    return problems


def dataset_problems(pack: Pack) -> list[PackProblem]:
    """Find datasets the catalog's rules refuse, at the line of the offending key.

    ``read_pack`` checks the schema and the cross-file rules; this adds the rules of
    ``muster.catalog`` (CSV mapping targets, feed URLs, …) before anything is written.
    """
    problems: list[PackProblem] = []
    root = _file_root(pack, DATASETS) if pack.datasets else None
    for index, dataset in enumerate(pack.datasets):
        command = _dataset_command(dataset)
        try:
            check_dataset(command.metadata, command.fields)
        except ValidationFailed as refused:
            where = re.findall(r"\w+", str(refused.params.get("field", "")))
            path = [int(step) if step.isdigit() else step for step in where]
            line = line_of(root, ["datasets", index, *path])
            problems.append(PackProblem(DATASETS, line, refused.message))
    return problems


def agreement_problems(pack: Pack) -> list[PackProblem]:
    """Find agreements the sharing rules refuse, at the line of the offending key.

    Each agreement is checked against its dataset as datasets.yaml defines it (the
    catalog holds exactly that once the datasets are loaded, in the same transaction).
    """
    problems: list[PackProblem] = []
    root = _file_root(pack, SHARING) if pack.agreements else None
    facts = {dataset.code: _dataset_facts(dataset) for dataset in pack.datasets}
    departments = frozenset(department.code for department in pack.departments)
    for index, data in enumerate(pack.agreements):
        dataset = facts.get(str(data.get("dataset")))
        if dataset is None:  # refused by read_pack; kept for hand-built packs
            line = line_of(root, ["agreements", index, "dataset"])
            message = f"unknown dataset '{data.get('dataset')}' (not in {DATASETS})"
            problems.append(PackProblem(SHARING, line, message))
            continue
        try:
            parse_agreement(data, dataset, departments=departments)
        except AgreementInvalid as refused:
            key = str(refused.params.get("field") or "code")
            line = line_of_key(root, ["agreements", index], key=key)
            problems.append(PackProblem(SHARING, line, refused.message))
    return problems


def _dataset_facts(dataset: DatasetSpec) -> DatasetFacts:
    return DatasetFacts(
        code=dataset.code,
        owner=dataset.owner_department,
        sharing_class=dataset.sharing_class,
        grade=dataset.data_grade,
        format=dataset.format,
        fields=tuple(
            FieldFacts(name=item.name, type=item.type, sensitivity=item.sensitivity)
            for item in dataset.fields
        ),
    )


def _file_root(pack: Pack, name: str) -> Node | None:
    """Return the YAML node tree of a pack file, to locate entries by line."""
    try:
        loaded = load_yaml((pack.root / name).read_text(encoding="utf-8-sig"))
    except (OSError, YamlRefusedError):
        return None
    return loaded.root


def _department_command(department: DepartmentSpec) -> RegisterDepartment:
    return RegisterDepartment(
        code=department.code,
        name_zh=department.name_zh,
        name_en=department.name_en,
        type=department.type.value,
        parent_code=department.parent,
    )


def _user_command(user: UserSpec) -> RegisterUser:
    if user.password is None:  # refused earlier by _new_user_problems
        raise ValueError(f"user {user.username} has no password")
    return RegisterUser(
        username=user.username,
        display_name=user.display_name,
        department_code=user.department,
        roles=tuple(role.value for role in user.roles),
        password=user.password,
        language=user.language,
        email=user.email,
    )


def _dataset_command(dataset: DatasetSpec) -> RegisterDataset:
    fields = tuple(
        DatasetField(
            name=item.name,
            type=item.type,
            required=item.required,
            sensitivity=item.sensitivity,
            unit=item.unit,
            choices=item.choices,
            minimum=item.minimum,
            maximum=item.maximum,
            max_length=item.max_length,
            description_zh=item.description_zh,
            description_en=item.description_en,
        )
        for item in dataset.fields
    )
    metadata = DatasetMetadata(
        code=dataset.code,
        name_zh=dataset.name_zh,
        name_en=dataset.name_en,
        description=dataset.description,
        owner_department=dataset.owner_department,
        sharing_class=dataset.sharing_class,
        sharing_conditions=dataset.sharing_conditions,
        legal_basis=dataset.legal_basis,
        data_grade=dataset.data_grade,
        update_interval_minutes=dataset.update_interval_minutes,
        format=dataset.format,
        connector=dataset.connector,
        feed_url=dataset.feed_url,
        csv_mapping=dataset.csv_mapping,
        csv_encoding=dataset.csv_encoding,
        keywords=dataset.keywords,
    )
    return RegisterDataset(metadata=metadata, fields=fields)


def _course_command(course: CourseSpec) -> RegisterCourse:
    return RegisterCourse(
        code=course.code,
        title_zh=course.title_zh,
        title_en=course.title_en,
        role=course.role,
        tier=course.tier,
        validity_months=course.validity_months,
    )


def _training_command(record: TrainingRecordSpec) -> RecordTraining:
    return RecordTraining(
        username=record.username,
        course=record.course,
        completed_on=record.completed_on,
        provider=record.provider,
        expires_on=record.expires_on,
    )


def _chain_command(chain: EscalationSpec) -> SetEscalationChain:
    return SetEscalationChain(
        department=chain.department,
        steps=tuple(
            {"after_minutes": step.after_minutes, "notify": step.notify}
            for step in chain.steps
        ),
        repeat=chain.repeat,
        repeat_after=chain.repeat_after,
    )


def _describe(command: Command, result: object) -> str:
    if isinstance(command, RegisterDepartment):
        return f"department {command.code}: {result}"
    if isinstance(command, RegisterUser):
        return f"user {command.username}: created"
    if isinstance(command, RegisterDataset):
        return f"dataset {command.metadata.code}: {result}"
    if isinstance(command, SetEscalationChain):
        department = command.department
        name = "default" if department == DEFAULT_CHAIN else department
        return f"escalation chain {name}: {result}"
    if isinstance(command, RegisterPlan):
        document = command.document
        return f"plan {document['code']} v{document['version']}: {result}"
    if isinstance(command, RegisterAgreement):
        return f"agreement {command.agreement.get('code')}: {result}"
    if isinstance(command, RegisterTriggerRules):
        return f"trigger rules ({len(command.document.get('rules', []))}): {result}"
    if isinstance(command, RegisterCascadeModel):
        rules = command.document.get("rules")
        count = len(rules) if isinstance(rules, list) else 0
        return f"cascade model ({count} rules): {result}"
    if isinstance(command, SetScorecardWeights):
        return f"scorecard weights: {result}"
    if isinstance(command, SetWarningTemplates):
        return f"warning templates: {result}"
    if isinstance(command, RegisterCourse):
        return f"course {command.code}: {result}"
    if isinstance(command, RecordTraining):
        return f"training {command.username} {command.course}: {result}"
    if isinstance(command, RegisterResourceType):
        return f"resource type {command.code}: {result}"
    if isinstance(command, RegisterResource):
        return f"resource {command.resource_id}: {result}"
    return f"{type(command).__name__}: done"


__all__ = [
    "Deployment",
    "KindCounts",
    "LoadSummary",
    "agreement_problems",
    "dataset_problems",
    "load_pack",
    "run_in_one_transaction",
]
