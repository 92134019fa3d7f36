"""Reading and checking deployment packs: the Lanjiang example and broken packs."""

from __future__ import annotations

import json
from importlib.resources import files
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from muster.core.errors import PackInvalid, PackProblem
from muster.pack import Pack, read_pack
from muster.pack.model import DepartmentType, Role

EXAMPLE = Path(str(files("muster") / "examples" / "lanjiang"))
SCHEMA_NAMES = ("region.schema.json", "departments.schema.json", "users.schema.json")

REGION = """\
code: TESTVILLE
name_zh: 测试市
name_en: Testville
center:
  lat: 28.2
  lon: 112.9
districts:
  - code: NORTH
    name_zh: 北区
    name_en: North District
  - code: SOUTH
    name_zh: 南区
    name_en: South District
"""

# Line numbers matter: departments[0] starts on line 2, departments[1] on line 6.
DEPARTMENTS = """\
departments:
  - code: GOV
    name_zh: 市政府
    name_en: City Government
    type: government
  - code: EMB
    name_zh: 应急管理局
    name_en: Emergency Management Bureau
    type: emergency_management
    parent: GOV
"""

USERS = """\
users:
  - username: admin
    display_name: Admin
    department: EMB
    roles: [admin]
  - username: emb.duty
    display_name: 值班员
    department: EMB
    roles: [duty_officer]
    language: en
"""


def write_pack(root: Path, **contents: str | None) -> Path:
    """Write a valid small pack to ``root``, with some files replaced or left out."""
    files_by_name = {"region": REGION, "departments": DEPARTMENTS, "users": USERS}
    files_by_name.update(contents)
    root.mkdir(parents=True, exist_ok=True)
    for name, text in files_by_name.items():
        if text is not None:
            (root / f"{name}.yaml").write_text(text, encoding="utf-8")
    return root


def problems_of(root: Path) -> list[PackProblem]:
    """Read the pack at ``root`` expecting failure; return the problems reported."""
    with pytest.raises(PackInvalid) as caught:
        read_pack(root)
    return caught.value.problems


def only_problem(root: Path) -> PackProblem:
    """Read the pack at ``root`` expecting exactly one problem; return it."""
    problems = problems_of(root)
    assert len(problems) == 1, problems
    return problems[0]


class TestExamplePack:
    def test_lanjiang_pack_loads(self) -> None:
        """The shipped Lanjiang pack passes every check."""
        path = EXAMPLE

        pack = read_pack(path)

        assert isinstance(pack, Pack)
        assert pack.region.name_zh == "澜江市"
        assert len(pack.region.districts) >= 6
        assert len(pack.departments) >= 10
        assert {"admin", "commander", "fire.duty"} <= {u.username for u in pack.users}

    def test_every_user_department_exists(self) -> None:
        """Each Lanjiang user belongs to a department defined in the pack."""
        pack = read_pack(EXAMPLE)

        codes = {department.code for department in pack.departments}

        assert all(user.department in codes for user in pack.users)

    def test_defaults_apply_and_password_is_hidden(self) -> None:
        """Omitted language falls back to zh-CN and passwords stay out of repr."""
        pack = read_pack(EXAMPLE)

        duty_officer = next(u for u in pack.users if u.username == "emb.duty")

        assert duty_officer.language == "zh-CN"
        assert duty_officer.password == "muster-demo"
        assert "muster-demo" not in repr(duty_officer)

    def test_schemas_are_valid_and_match_model_enums(self) -> None:
        """Each packaged schema is valid 2020-12 and its enums match the model."""
        schemas = {
            name: json.loads((files("muster.pack") / "schemas" / name).read_text())
            for name in SCHEMA_NAMES
        }

        for schema in schemas.values():
            Draft202012Validator.check_schema(schema)

        department = schemas["departments.schema.json"]["properties"]["departments"]
        user = schemas["users.schema.json"]["properties"]["users"]
        types = department["items"]["properties"]["type"]["enum"]
        roles = user["items"]["properties"]["roles"]["items"]["enum"]
        assert types == [member.value for member in DepartmentType]
        assert roles == [member.value for member in Role]


class TestValidPacks:
    def test_users_file_is_optional(self, tmp_path: Path) -> None:
        """A pack without users.yaml loads with no users."""
        root = write_pack(tmp_path, users=None)

        pack = read_pack(root)

        assert pack.users == ()
        assert pack.region.timezone == "Asia/Shanghai"

    def test_unknown_yaml_files_are_ignored(self, tmp_path: Path) -> None:
        """Extra files such as notes.yaml do not stop a pack from loading."""
        root = write_pack(tmp_path, notes="not: [checked, yet]\n")

        pack = read_pack(root)

        assert [d.code for d in pack.departments] == ["GOV", "EMB"]


class TestSchemaProblems:
    def test_wrong_enum_names_field_and_line(self, tmp_path: Path) -> None:
        """A department type outside the enum is reported at its line."""
        text = DEPARTMENTS.replace("type: emergency_management", "type: firefighting")
        root = write_pack(tmp_path, departments=text)

        problem = only_problem(root)

        assert (problem.file, problem.line) == ("departments.yaml", 9)
        assert problem.message.startswith(
            "departments[1].type: 'firefighting' is not one of"
        )

    def test_missing_required_key_points_at_parent_mapping(
        self, tmp_path: Path
    ) -> None:
        """A missing field is reported at the line of the entry that lacks it."""
        text = DEPARTMENTS.replace("    name_en: Emergency Management Bureau\n", "")
        root = write_pack(tmp_path, departments=text)

        problem = only_problem(root)

        assert (problem.file, problem.line) == ("departments.yaml", 6)
        assert problem.message == "departments[1].name_en: required field missing"

    def test_unknown_field_points_at_its_key(self, tmp_path: Path) -> None:
        """A field the schema does not know is reported at that field's line."""
        text = REGION.replace("  lon: 112.9\n", "  lon: 112.9\n  alt: 40\n")
        root = write_pack(tmp_path, region=text)

        problem = only_problem(root)

        assert (problem.file, problem.line) == ("region.yaml", 7)
        assert problem.message.startswith("center.alt: unknown field")

    def test_multiple_errors_are_all_reported(self, tmp_path: Path) -> None:
        """Errors in several fields and files come back together, in file order."""
        region = REGION.replace("lat: 28.2", "lat: 128.2")
        departments = DEPARTMENTS.replace("type: government", "type: city").replace(
            "code: EMB", "code: emb"
        )
        users = USERS.replace("roles: [admin]", "roles: [root]")
        root = write_pack(tmp_path, region=region, departments=departments, users=users)

        problems = problems_of(root)

        located = [(p.file, p.line, p.message.split(":")[0]) for p in problems]
        assert located == [
            ("region.yaml", 5, "center.lat"),
            ("departments.yaml", 5, "departments[0].type"),
            ("departments.yaml", 6, "departments[1].code"),
            ("users.yaml", 5, "users[0].roles[0]"),
        ]


class TestCrossFileProblems:
    def test_duplicate_department_code(self, tmp_path: Path) -> None:
        """A department code used twice is reported at the second use."""
        text = DEPARTMENTS.replace("code: EMB", "code: GOV").replace(
            "parent: GOV", "parent: null"
        )
        root = write_pack(tmp_path, departments=text, users=None)

        problem = only_problem(root)

        assert (problem.file, problem.line) == ("departments.yaml", 6)
        assert "departments[1].code: duplicate code 'GOV'" in problem.message
        assert "first on line 2" in problem.message

    def test_unknown_parent(self, tmp_path: Path) -> None:
        """A parent code that no department has is reported at the parent field."""
        text = DEPARTMENTS.replace("parent: GOV", "parent: CITY_HALL")
        root = write_pack(tmp_path, departments=text)

        problem = only_problem(root)

        assert (problem.file, problem.line) == ("departments.yaml", 10)
        assert "departments[1].parent: unknown department 'CITY_HALL'" in (
            problem.message
        )

    def test_parent_cycle(self, tmp_path: Path) -> None:
        """Departments that are each other's parent are reported once as a cycle."""
        text = DEPARTMENTS.replace(
            "    type: government\n", "    type: government\n    parent: EMB\n"
        )
        root = write_pack(tmp_path, departments=text)

        problem = only_problem(root)

        assert (problem.file, problem.line) == ("departments.yaml", 6)
        assert (
            problem.message == "departments[0].parent: parent cycle GOV -> EMB -> GOV"
        )

    def test_user_in_unknown_department(self, tmp_path: Path) -> None:
        """A user whose department is not in departments.yaml is reported."""
        text = USERS.replace("department: EMB", "department: FIRE", 1)
        root = write_pack(tmp_path, users=text)

        problem = only_problem(root)

        assert (problem.file, problem.line) == ("users.yaml", 4)
        assert problem.message == "users[0].department: unknown department 'FIRE'"

    def test_duplicate_username_and_district(self, tmp_path: Path) -> None:
        """Repeated usernames and district codes are both reported."""
        users = USERS.replace("username: emb.duty", "username: admin")
        region = REGION.replace("code: SOUTH", "code: NORTH")
        root = write_pack(tmp_path, users=users, region=region)

        problems = problems_of(root)

        assert [(p.file, p.line) for p in problems] == [
            ("region.yaml", 11),
            ("users.yaml", 6),
        ]
        assert "districts[1].code: duplicate code 'NORTH'" in problems[0].message
        assert "users[1].username: duplicate username 'admin'" in problems[1].message


class TestFileProblems:
    def test_missing_departments_file(self, tmp_path: Path) -> None:
        """A pack without departments.yaml names the missing file."""
        root = write_pack(tmp_path, departments=None, users=None)

        problem = only_problem(root)

        assert problem == PackProblem(
            "departments.yaml", None, "required file is missing"
        )

    def test_missing_directory(self, tmp_path: Path) -> None:
        """A path that is not a directory is reported as such."""
        root = tmp_path / "nowhere"

        problem = only_problem(root)

        assert problem.file == "."
        assert "pack directory not found" in problem.message

    def test_yaml_syntax_error_has_its_line(self, tmp_path: Path) -> None:
        """Broken YAML is reported with the line where parsing failed."""
        text = DEPARTMENTS.replace(
            "    name_zh: 应急管理局", "    name_zh: [应急管理局"
        )
        root = write_pack(tmp_path, departments=text)

        problem = only_problem(root)

        assert problem.file == "departments.yaml"
        assert problem.line == 8
        assert problem.message.startswith("invalid YAML")

    def test_duplicate_mapping_key(self, tmp_path: Path) -> None:
        """A key given twice in one mapping is refused, naming both lines."""
        text = DEPARTMENTS.replace(
            "    type: government\n", "    type: government\n    type: other\n"
        )
        root = write_pack(tmp_path, departments=text)

        problem = only_problem(root)

        assert (problem.file, problem.line) == ("departments.yaml", 6)
        assert problem.message == "duplicate key 'type' (first defined on line 5)"

    def test_alias_is_refused(self, tmp_path: Path) -> None:
        """YAML aliases are refused so that alias bombs cannot be loaded."""
        text = DEPARTMENTS.replace("type: government", "type: &t government").replace(
            "type: emergency_management", "type: *t"
        )
        root = write_pack(tmp_path, departments=text)

        problem = only_problem(root)

        assert (problem.file, problem.line) == ("departments.yaml", 9)
        assert "aliases are not allowed" in problem.message

    def test_oversized_file_is_refused(self, tmp_path: Path) -> None:
        """A file over 2 MB is refused without being parsed."""
        padding = "# padding\n" * 220_000
        root = write_pack(tmp_path, region=REGION + padding)

        problem = only_problem(root)

        assert problem == PackProblem("region.yaml", None, "file is larger than 2 MB")
