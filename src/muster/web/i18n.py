"""Translations of the web interface: catalogs, language choice and ``translate``.

Imported by the web layer and the parts' ``pages.py``/``api.py``. Message ids are
English; ``locale/<locale>/LC_MESSAGES/messages.po`` are compiled in memory at start-up
(no ``.mo`` files in the repository).

Extraction without a ``babel.cfg``: template strings are found by Jinja's own extractor
(:func:`template_messages`, which the unit tests use to check every id has a zh_CN
translation); Python strings are the literals passed to ``translate(...)`` or marked
with :func:`N_`. To add messages, list both and add them to the ``.po`` files by hand
or with ``pybabel update``.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Final

import jinja2
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

LANGUAGES: Final = ("zh-CN", "en")
LOCALE_DIR: Final = Path(__file__).resolve().parent.parent / "locale"
TEMPLATE_DIR: Final = Path(__file__).resolve().parent / "templates"
_LOCALES: Final = {"zh-CN": "zh_CN", "en": "en"}


def N_(message: str) -> str:  # noqa: N802 - the conventional gettext marker name
    """Mark a string for translation where it is defined; translate it later."""
    return message


@cache
def translations(language: str) -> NullTranslations:
    """Return the compiled catalog of a language (compiled once per process)."""
    locale = _LOCALES.get(language)
    if locale is None:
        return NullTranslations()
    path = LOCALE_DIR / locale / "LC_MESSAGES" / "messages.po"
    with path.open("rb") as source:
        catalog = read_po(source, locale=locale)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return Translations(fp=buffer)


def load_all() -> None:
    """Compile every catalog now, so a broken ``.po`` fails at start-up."""
    for language in LANGUAGES:
        translations(language)


def translate(language: str, message: str, **params: object) -> str:
    """Translate a message id and fill its ``%(name)s`` parameters."""
    text = translations(language).gettext(message)
    return text % params if params else text


def supported(language: str | None) -> str | None:
    """Return the supported language code matching a tag, or None."""
    if not language:
        return None
    tag = language.strip().lower().replace("_", "-")
    if tag.startswith("zh"):
        return "zh-CN"
    if tag.startswith("en"):
        return "en"
    return None


def negotiate(accept_language: str | None) -> str | None:
    """Return the best supported language of an Accept-Language header, or None."""
    choices: list[tuple[float, int, str]] = []
    for index, part in enumerate((accept_language or "").split(",")):
        tag, _, parameters = part.strip().partition(";")
        quality = 1.0
        if parameters.strip().startswith("q="):
            try:
                quality = float(parameters.strip()[2:])
            except ValueError:
                quality = 0.0
        language = supported(tag)
        if language is not None and quality > 0:
            choices.append((-quality, index, language))
    return min(choices)[2] if choices else None


@cache
def environment(language: str) -> jinja2.Environment:
    """Return the Jinja environment of a language, with gettext installed."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATE_DIR),
        autoescape=jinja2.select_autoescape(default=True),
        extensions=["jinja2.ext.i18n"],
        undefined=jinja2.StrictUndefined,
    )
    env.install_gettext_translations(  # type: ignore[attr-defined]
        translations(language), newstyle=True
    )
    return env


def template_messages() -> Iterator[tuple[str, int, str]]:
    """Yield (template, line, message id) for every translatable template string."""
    env = environment("en")
    for path in sorted(TEMPLATE_DIR.rglob("*.html")):
        source = path.read_text(encoding="utf-8")
        for line, _function, message in env.extract_translations(  # type: ignore[attr-defined]
            source
        ):
            for item in message if isinstance(message, tuple) else (message,):
                if item:
                    yield path.name, line, item


__all__ = [
    "LANGUAGES",
    "N_",
    "environment",
    "load_all",
    "negotiate",
    "supported",
    "template_messages",
    "translate",
    "translations",
]
