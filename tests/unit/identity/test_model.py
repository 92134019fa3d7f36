"""Identity rules: account checks, admin-only actions, rate limiting."""

from __future__ import annotations

import pytest

from muster.core.errors import PermissionDenied
from muster.core.messages import SYSTEM_ACTOR, Actor
from muster.identity.domain.errors import InvalidUserData
from muster.identity.domain.model import check_new_user, is_rate_limited, require_admin

ADMIN = Actor(kind="user", id="a", department="EMB", roles=frozenset({"admin"}))
COMMANDER = Actor(kind="user", id="c", department="EMB", roles=frozenset({"commander"}))


class TestCheckNewUser:
    def test_accepts_a_well_formed_account(self) -> None:
        """Lowercase username, known roles and language, long password: accepted."""
        account = {"username": "fire.duty", "roles": ("duty_officer",)}

        check_new_user(**account, language="zh-CN", password="long-enough")  # type: ignore[arg-type]

    @pytest.mark.parametrize(
        ("username", "roles", "language", "password", "field"),
        [
            ("Fire Duty", ("duty_officer",), "en", "long-enough", "username"),
            ("fire.duty", (), "en", "long-enough", "roles"),
            ("fire.duty", ("boss",), "en", "long-enough", "roles"),
            ("fire.duty", ("analyst",), "fr", "long-enough", "language"),
            ("fire.duty", ("analyst",), "en", "short", "password"),
        ],
    )
    def test_refuses_malformed_accounts(
        self,
        username: str,
        roles: tuple[str, ...],
        language: str,
        password: str,
        field: str,
    ) -> None:
        """Each malformed part of an account is refused, naming the field."""
        account = {"username": username, "roles": roles, "language": language}

        with pytest.raises(InvalidUserData) as refused:
            check_new_user(**account, password=password)  # type: ignore[arg-type]

        assert refused.value.params["field"] == field


class TestRequireAdmin:
    def test_admin_and_muster_itself_pass(self) -> None:
        """Administrators and the system actor may administer."""
        actors = [ADMIN, SYSTEM_ACTOR]

        for actor in actors:
            require_admin(actor, "register a user")

    def test_commander_is_refused(self) -> None:
        """A commander is not an administrator."""
        actor = COMMANDER

        with pytest.raises(PermissionDenied):
            require_admin(actor, "register a user")


class TestRateLimit:
    def test_limit_reached_at_the_maximum(self) -> None:
        """The account is limited once recent failures reach the maximum."""
        failures = [4, 5, 6]

        limited = [is_rate_limited(count, max_failures=5) for count in failures]

        assert limited == [False, True, True]
