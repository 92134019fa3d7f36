"""Catalog completeness and language choice of the web interface."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from muster.web import i18n

SRC = Path(i18n.__file__).resolve().parent.parent
PYTHON_SOURCES = sorted(
    path
    for path in SRC.rglob("*.py")
    if "N_(" in (text := path.read_text(encoding="utf-8")) or "translate(" in text
)
PLACEHOLDER = re.compile(r"%\((\w+)\)s")


def _catalog(locale: str) -> dict[str, str]:
    path = i18n.LOCALE_DIR / locale / "LC_MESSAGES" / "messages.po"
    with path.open("rb") as source:
        catalog = read_po(source)
    return {str(message.id): str(message.string) for message in catalog if message.id}


def _python_messages() -> set[str]:
    """Return literals marked with N_(...) or passed straight to translate(...)."""
    found: set[str] = set()
    for path in PYTHON_SOURCES:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            name = getattr(node.func, "id", getattr(node.func, "attr", ""))
            position = {"N_": 0, "translate": None}.get(name, -1)
            if position == -1:
                continue
            literals = [
                arg.value
                for arg in node.args
                if isinstance(arg, ast.Constant) and isinstance(arg.value, str)
            ]
            found.update(literals if position is None else literals[:1])
    return found


def _template_messages() -> set[str]:
    return {message for _template, _line, message in i18n.template_messages()}


class TestCatalogs:
    def test_every_template_message_has_a_chinese_translation(self) -> None:
        """Each _("...") and {% trans %} in the templates is translated in zh_CN."""
        chinese = _catalog("zh_CN")

        missing = sorted(m for m in _template_messages() if not chinese.get(m))

        assert _template_messages(), "the extractor found no template messages"
        assert missing == []

    def test_every_python_message_has_a_chinese_translation(self) -> None:
        """Each N_("...") or translate(..., "...") literal is translated in zh_CN."""
        chinese = _catalog("zh_CN")

        missing = sorted(m for m in _python_messages() if not chinese.get(m))

        assert len(_python_messages()) > 40
        assert missing == []

    def test_translations_keep_the_placeholders(self) -> None:
        """A translation uses exactly the %(name)s placeholders of its message id."""
        chinese = _catalog("zh_CN")

        broken = [
            message
            for message, text in chinese.items()
            if set(PLACEHOLDER.findall(message)) != set(PLACEHOLDER.findall(text))
        ]

        assert broken == []

    def test_english_catalog_lists_the_same_messages(self) -> None:
        """Both catalogs hold the same message ids."""
        assert set(_catalog("en")) == set(_catalog("zh_CN"))


class TestTranslate:
    def test_fills_parameters_in_the_chosen_language(self) -> None:
        """translate() looks the id up and fills named parameters."""
        text = i18n.translate(
            "zh-CN",
            "%(department)s opened incident “%(title)s”",
            department="消防",
            title="内涝",
        )

        assert text == "消防 上报了事件“内涝”"

    def test_unknown_message_falls_back_to_the_id(self) -> None:
        """An id without a translation is shown as written."""
        assert i18n.translate("zh-CN", "Not in any catalog") == "Not in any catalog"


class TestNegotiate:
    @pytest.mark.parametrize(
        ("header", "expected"),
        [
            ("zh-CN,zh;q=0.9,en;q=0.8", "zh-CN"),
            ("en-GB,en;q=0.9", "en"),
            ("fr-FR, en;q=0.5, zh;q=0.7", "zh-CN"),
            ("de-DE", None),
            ("", None),
            ("en;q=0, zh-TW", "zh-CN"),
        ],
    )
    def test_picks_the_best_supported_language(
        self, header: str, expected: str | None
    ) -> None:
        """Accept-Language is matched by quality to zh-CN or en."""
        assert i18n.negotiate(header) == expected
