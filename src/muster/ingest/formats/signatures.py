"""Check the XML signatures enveloped in a CAP alert, and say honestly what was proven.

Policy (imported by ``cap.py`` only):

- Trust: the key is the one the alert carries: its embedded X.509 certificate
  (pinned) or, failing that, its ``KeyValue``. This proves the alert was not changed
  since that key signed it; it does NOT prove who signed it: the certificate chain
  is not verified (no trust store) and every corpus certificate has expired. The
  certificate's validity is checked at the alert's ``sent`` time when that lies
  inside the certificate's window, else at the certificate's not-before + 1 s;
  the detail says which.
- Coverage: a signature must have exactly one reference with ``URI=""`` (the whole
  alert, enveloped); anything else is refused as not covering the alert.
- Several signatures (NAAD relays add their own to the originator's): each is checked
  with the other signatures set aside, and every one must verify.
- An empty ``<Signature/>`` placeholder (no child elements) makes no claim that
  could be checked: it counts as no signature ("absent"). Deleting it would give the
  same result, so treating it as absent does not weaken anything.
- SHA-1 is accepted (legacy IPAWS and NAAD feeds) and named in the detail. HMAC is
  refused: the alert cannot carry a shared secret.
- Inclusive-c14n compatibility: lxml/libxml2 renders ``xmlns=""`` on nested
  SignedInfo children when the signature uses the default namespace; signxml offers
  ``excise_empty_xmlns_declarations`` for that (signxml issue #193). A signature
  that fails strictly is retried once in that mode and the detail says so.
"""

from __future__ import annotations

import copy
import warnings
from base64 import b64decode
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Literal

import cryptography.exceptions
from cryptography import x509
from cryptography.utils import CryptographyDeprecationWarning
from lxml import etree
from signxml.algorithms import DigestAlgorithm, SignatureMethod
from signxml.exceptions import InvalidCertificate, InvalidDigest, InvalidInput
from signxml.verifier import SignatureConfiguration, XMLVerifier

from muster.ingest.formats import FormatRejected
from muster.ingest.formats._xmltext import where
from muster.ingest.formats.secure_xml import make_parser

SignatureStatus = Literal["valid", "invalid", "absent", "unchecked"]
"""``invalid`` is never returned on a parsed alert: such alerts are rejected."""

DS = "http://www.w3.org/2000/09/xmldsig#"
DS_SIGNATURE = f"{{{DS}}}Signature"
_METHODS = frozenset(m for m in SignatureMethod if not m.name.startswith("HMAC"))
_DIGESTS = frozenset(DigestAlgorithm)
_EXCLUSIVE_C14N = "http://www.w3.org/2001/10/xml-exc-c14n#"
_COMPAT_NOTE = "; verified in signxml's excise-empty-xmlns compatibility mode"
_TRUST_NOTE = (
    "integrity only: the key is the one embedded in the alert; the certificate "
    "chain is NOT verified (no trust store)"
)


@dataclass(frozen=True, slots=True)
class SignatureReport:
    """The outcome of checking an alert's signatures, for ``CapAlert``."""

    status: SignatureStatus
    detail: str


@dataclass(frozen=True, slots=True)
class _Key:
    """What verifies one signature: a pinned certificate or the alert's own key."""

    certificate: x509.Certificate | None
    verification_time: datetime | None
    description: str


class _SignatureFailed(Exception):
    """One signature did not verify; the message says why."""


def check_signatures(
    alert: etree._Element, *, sent: datetime, source: bytes | None = None
) -> SignatureReport:
    """Verify every ``ds:Signature`` child of ``alert``; raise if one fails.

    ``source`` is the document ``alert`` was parsed from; with a single signature it
    is handed to signxml as is, which saves re-serialising the tree.
    """
    found = [child for child in alert if child.tag == DS_SIGNATURE]
    real = [signature for signature in found if len(signature) > 0]
    placeholders = len(found) - len(real)
    ignored = (
        f"{placeholders} empty <Signature/> placeholder(s) ignored"
        if placeholders
        else ""
    )
    if not real:
        return SignatureReport("absent", ignored or "no signature")
    lines: list[str] = []
    for number, signature in enumerate(real, start=1):
        label = _label(signature, number, len(real))
        try:
            proof = _verify(alert, signature, sent=sent, source=source)
            lines.append(f"{label}: valid; {proof}")
        except _SignatureFailed as failure:
            line, path = where(signature)
            raise FormatRejected(
                f"{label} does not verify: {failure}",
                reason="signature_invalid",
                line=line,
                xpath=path,
            ) from None
    return SignatureReport(
        "valid", "; ".join([*lines, *([ignored] if ignored else []), _TRUST_NOTE])
    )


def unchecked_report(alert: etree._Element) -> SignatureReport:
    """Describe signatures that the caller chose not to verify."""
    count = sum(1 for child in alert if child.tag == DS_SIGNATURE and len(child))
    if not count:
        return SignatureReport("absent", "no signature")
    return SignatureReport("unchecked", f"{count} signature(s) present, not verified")


def _label(signature: etree._Element, number: int, total: int) -> str:
    """Name a signature for messages: its position and its Id, if any."""
    identifier = signature.get("Id")
    name = f"signature {number} of {total}" if total > 1 else "the signature"
    return f"{name} (Id={identifier!r})" if identifier else name


def _verify(
    alert: etree._Element,
    signature: etree._Element,
    *,
    sent: datetime,
    source: bytes | None,
) -> str:
    """Verify one signature with the others set aside; return what was proven."""
    _require_whole_alert_reference(signature)
    key = _key_of(signature, sent=sent)
    document = _alone_with(alert, signature)
    target = source if source is not None and document is alert else document
    compat = _verify_in_modes(target, key, _c14n_modes(signature))
    note = _COMPAT_NOTE if compat else ""
    return f"{key.description}{_sha1_note(signature)}{note}"


def _verify_in_modes(
    target: etree._Element | bytes, key: _Key, modes: tuple[bool, ...]
) -> bool:
    """Return the first compatibility setting that verifies; raise the last failure."""
    for compat in modes[:-1]:
        with suppress(_SignatureFailed):
            _run_signxml(target, key, compat=compat)
            return compat
    _run_signxml(target, key, compat=modes[-1])
    return modes[-1]


def _c14n_modes(signature: etree._Element) -> tuple[bool, ...]:
    """Say which ``excise_empty_xmlns_declarations`` settings to try, in order.

    Exclusive c14n: strict only. Inclusive c14n of a SignedInfo in the default
    namespace always meets the libxml2 ``xmlns=""`` quirk, so the compatibility mode
    comes first there; other inclusive signatures try strict first.
    """
    if _is_exclusive_c14n(signature):
        return (False,)
    return (True, False) if signature.prefix is None else (False, True)


def _require_whole_alert_reference(signature: etree._Element) -> None:
    """Refuse signatures whose single reference is not the whole alert."""
    references = signature.findall(f"{{{DS}}}SignedInfo/{{{DS}}}Reference")
    if len(references) != 1 or references[0].get("URI") != "":
        uris = [reference.get("URI") for reference in references]
        raise _SignatureFailed(
            f"it must sign the whole alert (one Reference with URI=''), found {uris}"
        )


def _key_of(signature: etree._Element, *, sent: datetime) -> _Key:
    """Pick the embedded certificate (pinned) or the embedded public key."""
    encoded = signature.findtext(f".//{{{DS}}}X509Certificate")
    if encoded is None:
        if signature.find(f".//{{{DS}}}KeyValue") is None:
            raise _SignatureFailed("it carries neither a certificate nor a key")
        return _Key(None, None, "key from the alert's KeyValue (no certificate)")
    try:
        certificate, start, end, subject = _certificate(encoded)
    except ValueError as error:
        raise _SignatureFailed(f"its certificate cannot be read: {error}") from None
    if start <= sent <= end:
        when, why = sent, "the alert's sent time"
    else:
        when = start + timedelta(seconds=1)
        why = "certificate not-before + 1 s, as sent lies outside its validity"
    return _Key(
        certificate,
        when,
        f"embedded certificate {subject} (valid {start:%Y-%m-%d} to {end:%Y-%m-%d}) "
        f"pinned, checked at {when.isoformat()} ({why})",
    )


@lru_cache(maxsize=256)
def _certificate(encoded: str) -> tuple[x509.Certificate, datetime, datetime, str]:
    """Load a base64 DER certificate once: an issuer signs many alerts with one."""
    with _quiet_serial_warning():
        certificate = x509.load_der_x509_certificate(b64decode(encoded))
    return (
        certificate,
        certificate.not_valid_before_utc,
        certificate.not_valid_after_utc,
        certificate.subject.rfc4514_string(),
    )


def _alone_with(alert: etree._Element, keep: etree._Element) -> etree._Element:
    """Return the alert with every other ``ds:Signature`` child removed."""
    others = [c for c in alert if c.tag == DS_SIGNATURE and c is not keep]
    if not others:
        return alert
    position = list(alert).index(keep)
    document = copy.deepcopy(alert)
    kept = document[position]
    for child in list(document):
        if child.tag == DS_SIGNATURE and child is not kept:
            document.remove(child)
    return document


def _run_signxml(document: etree._Element | bytes, key: _Key, *, compat: bool) -> None:
    """Call signxml with the pinned key; any failure becomes ``_SignatureFailed``."""
    config = SignatureConfiguration(
        require_x509=key.certificate is not None,
        location="./",
        signature_methods=_METHODS,
        digest_algorithms=_DIGESTS,
        verification_time=key.verification_time,
    )
    verifier = XMLVerifier()
    verifier.excise_empty_xmlns_declarations = compat
    try:
        with _quiet_serial_warning():
            verifier.verify(
                document,
                x509_cert=key.certificate,
                expect_config=config,
                # The NAAD relay's Id="NAADS Signature" is not an xs:ID; structure
                # is checked by signxml itself while verifying.
                validate_schema=False,
                parser=make_parser(),
            )
    except Exception as error:
        # signxml, cryptography and base64 raise many types for hostile input; at
        # this boundary every one of them means "this signature does not verify".
        raise _SignatureFailed(_explain(error)) from None


def _explain(error: Exception) -> str:
    """Turn a verification error into a sentence a data steward can act on."""
    detail = str(error).strip()
    if isinstance(error, InvalidDigest):
        return "the alert's content does not match its signed digest (changed since)"
    if isinstance(error, InvalidCertificate):
        return f"the embedded certificate is not acceptable: {detail}"
    if isinstance(error, InvalidInput):
        return f"the signature is malformed: {detail}"
    if isinstance(error, cryptography.exceptions.InvalidSignature):
        return (
            "the signature value does not match the signed data under the embedded "
            "key (the alert or its SignedInfo was changed after signing)"
        )
    return f"{type(error).__name__}: {detail}"


def _is_exclusive_c14n(signature: etree._Element) -> bool:
    """Tell whether SignedInfo is canonicalised with exclusive c14n."""
    method = signature.find(f"{{{DS}}}SignedInfo/{{{DS}}}CanonicalizationMethod")
    algorithm = "" if method is None else (method.get("Algorithm") or "")
    return algorithm.startswith(_EXCLUSIVE_C14N)


def _sha1_note(signature: etree._Element) -> str:
    """Name SHA-1 when the signature or a digest uses it (accepted as legacy)."""
    algorithms = [
        element.get("Algorithm") or ""
        for element in signature.iterfind(f".//{{{DS}}}SignedInfo//*[@Algorithm]")
    ]
    return (
        "; uses sha1 (legacy, accepted)"
        if any(algorithm.endswith("sha1") for algorithm in algorithms)
        else ""
    )


@contextmanager
def _quiet_serial_warning() -> Iterator[None]:
    """Silence cryptography's warning about non-positive certificate serials."""
    with warnings.catch_warnings():
        warnings.filterwarnings(
            "ignore",
            message="Parsed a serial number which wasn't positive",
            category=CryptographyDeprecationWarning,
        )
        yield
