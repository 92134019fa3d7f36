"""Translatable labels of the ingest part's codes (statuses, measures, rules).

Message ids marked with ``N_``; translated where shown. Imported by the ingest pages
and by ``web.summaries`` (the live feed).
"""

from __future__ import annotations

from muster.web import i18n
from muster.web.i18n import N_

MEASURES = ("freshness", "validity", "completeness", "volume", "consistency")
MEASURE_LABELS: dict[str, str] = {
    "freshness": N_("Freshness"),
    "validity": N_("Validity"),
    "completeness": N_("Completeness"),
    "volume": N_("Volume"),
    "consistency": N_("Consistency"),
}
STATUS_LABELS: dict[str, str] = {
    "on_time": N_("On time"),
    "late": N_("Late"),
    "stale": N_("Stale"),
    "no_data": N_("No data"),
    "good": N_("Good"),
    "degraded": N_("Degraded"),
    "poor": N_("Poor"),
    "normal": N_("Normal"),
    "anomalous": N_("Anomalous"),
    "consistent": N_("Consistent"),
    "inconsistent": N_("Inconsistent"),
}
STATUS_TONES: dict[str, str] = {
    **dict.fromkeys(("on_time", "good", "normal", "consistent"), "ok"),
    **dict.fromkeys(("late", "degraded"), "warn"),
    **dict.fromkeys(("stale", "poor", "anomalous", "inconsistent"), "bad"),
}
ITEM_STATUS_LABELS: dict[str, str] = {
    "open": N_("Waiting"),
    "accepted": N_("Stored"),
    "discarded": N_("Discarded"),
}
RULE_LABELS: dict[str, str] = {
    "required": N_("Required"),
    "type": N_("Wrong type"),
    "format": N_("Wrong format"),
    "choice": N_("Not an allowed value"),
    "minimum": N_("Below the minimum"),
    "maximum": N_("Above the maximum"),
    "max_length": N_("Too long"),
    "unknown_field": N_("Unknown field"),
    # Why a whole document or an unreadable part was refused (formats/).
    "not_xml": N_("Not XML"),
    "too_large": N_("Too large"),
    "refused_dtd": N_("DTD refused"),
    "refused_entity": N_("Entity refused"),
    "refused_xinclude": N_("XInclude refused"),
    "schema": N_("Fails the schema"),
    "signature_invalid": N_("Invalid signature"),
    "semantic": N_("Breaks a CAP rule"),
    "unsupported_version": N_("Unsupported version"),
    "not_cap": N_("Not a CAP alert"),
    "not_edxl": N_("Not an EDXL message"),
    "encoding": N_("Unreadable encoding"),
    "binary": N_("Binary content"),
    "json": N_("Invalid JSON"),
    "structure": N_("Unexpected structure"),
    "header": N_("Bad header row"),
    "column_count": N_("Wrong number of columns"),
    "csv_syntax": N_("CSV syntax error"),
    "not_an_object": N_("Not an object"),
    "not_a_feature": N_("Not a feature"),
    "properties": N_("Bad properties"),
    "id": N_("Bad id"),
    "geometry": N_("Bad geometry"),
}
SIGNATURE_LABELS: dict[str, str] = {
    "valid": N_("Signature valid"),
    "invalid": N_("Signature invalid"),
    "absent": N_("Not signed"),
}
MSG_TYPE_LABELS: dict[str, str] = {
    "Alert": N_("Alert"),
    "Update": N_("Update"),
    "Cancel": N_("Cancel"),
    "Ack": N_("Acknowledgement"),
    "Error": N_("Error"),
}
NOTICES: dict[str, str] = {
    "resubmitted": N_("The corrected record was stored in the dataset."),
    "discarded": N_("The item was discarded; the reason is in the log."),
    "measured": N_("Data quality was measured just now."),
}
LABELS: dict[str, dict[str, str]] = {
    "measure": MEASURE_LABELS,
    "status": STATUS_LABELS,
    "item_status": ITEM_STATUS_LABELS,
    "rule": RULE_LABELS,
    "signature": SIGNATURE_LABELS,
    "msg_type": MSG_TYPE_LABELS,
}


def translated(language: str) -> dict[str, dict[str, str]]:
    """Return every label table translated into a language (for templates)."""
    return {
        kind: {code: i18n.translate(language, label) for code, label in labels.items()}
        for kind, labels in LABELS.items()
    }


__all__ = [
    "ITEM_STATUS_LABELS",
    "LABELS",
    "MEASURES",
    "MEASURE_LABELS",
    "MSG_TYPE_LABELS",
    "NOTICES",
    "RULE_LABELS",
    "SIGNATURE_LABELS",
    "STATUS_LABELS",
    "STATUS_TONES",
    "translated",
]
