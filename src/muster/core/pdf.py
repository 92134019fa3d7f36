"""HTML → PDF through WeasyPrint, fetching nothing but inline ``data:`` URIs.

Imported by the situation-report pages (response) and the review part's reports
(after-action report, bulletin). Documents are self-contained: CSS inline, charts as
inline SVG or ``data:`` images; any other URL is refused so a report never reaches
the network or the file system. Chinese text needs a CJK font on the machine
(``fonts-wqy-microhei``, installed by ``.ci/run``); the stylesheets name it first.
"""

from __future__ import annotations

import importlib
from typing import Any

from muster.core.errors import ConfigurationError


def _weasyprint() -> Any:
    try:
        return importlib.import_module("weasyprint")  # optional: PDF only
    except ImportError:
        raise ConfigurationError(
            "PDF export needs WeasyPrint, which is not installed"
        ) from None


def _refuse(url: str) -> ValueError:
    return ValueError(f"the PDF renderer fetches nothing ({url[:60]})")


def _fetcher(weasyprint: Any) -> Any:
    """Return a URL fetcher that serves ``data:`` URIs and refuses everything else.

    WeasyPrint ≥ 68 takes a ``URLFetcher`` instance; older versions a function
    delegating to ``default_url_fetcher``.
    """
    base = getattr(weasyprint, "URLFetcher", None)
    if base is None:

        def fetch(url: str, *args: object, **kwargs: object) -> Any:
            if url.startswith("data:"):
                return weasyprint.default_url_fetcher(url, *args, **kwargs)
            raise _refuse(url)

        return fetch

    class DataOnly(base):  # type: ignore[misc, valid-type]
        def fetch(self, url: str, headers: object = None) -> Any:
            if url.startswith("data:"):
                return super().fetch(url, headers)
            raise _refuse(url)

    return DataOnly()


def html_to_pdf(html: str) -> bytes:
    """Return the PDF of a self-contained HTML document."""
    weasyprint = _weasyprint()
    document: Any = weasyprint.HTML(string=html, url_fetcher=_fetcher(weasyprint))
    return bytes(document.write_pdf())


__all__ = ["html_to_pdf"]
