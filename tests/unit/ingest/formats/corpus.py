"""Where the shared corpus is, which files it holds, and what each invalid file breaks.

Used at collection time (parametrize) and by ``conftest.py``. When the corpus is
missing, every listing holds one placeholder so that the tests using the ``corpus``
fixture run and fail loudly instead of being collected as zero tests.
"""

from __future__ import annotations

from pathlib import Path

import muster

MISSING = "<shared corpus missing>"

# cap/invalid file -> expected reason, derived from shared/corpus/PROVENANCE.md:
# XSD FAIL rows -> "schema" (with PROVENANCE's line), altered or non-verifying
# signatures -> "signature_invalid", empty references on an Update -> "semantic",
# CAP 1.1 -> "unsupported_version", <alerts> wrapper and alerts:1.2 namespace ->
# "not_cap", DOCTYPE with entities -> "refused_entity".
CAP_INVALID_REASONS: dict[str, tuple[str, int | None]] = {
    "bf_anam_burkina_signed_large.xml": ("signature_invalid", None),
    "bf_missing_severity_signed.xml": ("schema", 16),
    "empty_references_canada.xml": ("semantic", None),
    "missing_scope.xml": ("schema", 9),
    "noaa_errors_cap11.xml": ("unsupported_version", None),
    "sc_bad_certificate.xml": ("signature_invalid", None),
    "sc_bad_digest.xml": ("signature_invalid", None),
    "sc_seychelles_met_signed.xml": ("signature_invalid", None),
    "se_krisinformation_element_order.xml": ("schema", 17),
    "se_smhi_alerts_wrapper_root.xml": ("not_cap", None),
    "tg_bad_signature_value.xml": ("signature_invalid", None),
    "tg_meteo_togo_signed.xml": ("signature_invalid", None),
    "tg_missing_certainty_signed.xml": ("schema", 16),
    "wrong_namespace_taiwan.xml": ("not_cap", None),
    "xxe_xinclude_attack.xml": ("refused_entity", None),
}

# Checked by eye (grep of the files), independent of the XPath counts in the tests:
# file -> (identifier, infos, areas).
CAP_EYE_CHECKED: dict[str, tuple[str, int, int]] = {
    "spec_a4_ca_doj_amber_en_es.xml": ("KAR0-0306112239-SW", 2, 2),
    "de_dwd_20151102_pvw49.xml": ("2.49.0.1.276.DWD.PVW.1446444767375.49", 1, 69),
    "ca_environment_canada_en_fr.xml": ("2.49.0.1.124.6bddbc91.2012", 2, 4),
    "us_athoc_ipaws_cancel_no_info_signed.xml": (
        "1017033100951096-517189320160225203219800_Cancel",
        0,
        0,
    ),
}


def corpus_candidates() -> list[Path]:
    """Where the corpus may be: beside the package's checkout or the tests' checkout."""
    package_checkout = Path(muster.__file__).resolve().parents[2]
    tests_checkout = Path(__file__).resolve().parents[4]
    return [
        checkout.parent / "shared" / "corpus"
        for checkout in dict.fromkeys((package_checkout, tests_checkout))
    ]


def find_corpus() -> Path | None:
    """Return the first corpus folder that exists, or ``None``."""
    return next((path for path in corpus_candidates() if path.is_dir()), None)


def corpus_files(folder: str) -> list[str]:
    """Names of the XML files directly in ``folder`` (relative to the corpus)."""
    root = find_corpus()
    if root is None:
        return [MISSING]
    return sorted(path.name for path in (root / folder).glob("*.xml"))


def all_corpus_files() -> list[str]:
    """Every CAP and EDXL sample, as paths relative to the corpus (for fuzzing)."""
    root = find_corpus()
    if root is None:
        return [MISSING]
    return sorted(
        str(path.relative_to(root))
        for path in root.rglob("*.xml")
        if "schema" not in path.parts
    )
