"""Sign outgoing CAP alerts with the deployment's key (enveloped XML-DSig, signxml).

The key is an RSA-3072 key with a self-signed X.509 certificate whose common name is
the alert sender. Both live in the deployment's data folder (``keys/`` beside the
checkpoint key), are created on first use, readable by their owner only (0600), and
are never printed or logged; ``AlertSigner``'s repr leaves the key out.

A signature is enveloped (the last child of ``<alert>``, where the CAP XSD allows
``ds:Signature``), RSA-SHA256 with SHA-256 digests and exclusive c14n, and has one
``Reference URI=""``: it covers the whole alert. The certificate travels in
``KeyInfo/X509Data``. Muster's own ingest (``check_signatures``, pinning that
certificate) and ``xmlsec1 --verify`` both accept it. Like every self-signed
certificate it proves integrity, not identity: a receiver pins the certificate it
got from the deployment (its SHA-256 ``fingerprint``) out of band.

``render_alert`` is the publish port the handlers call: compose, validate, sign,
validate again. Imported by bootstrap (to bind the port), the benchmark and tests.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import threading
from base64 import b64decode
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    load_pem_private_key,
)
from cryptography.x509.oid import NameOID
from lxml import etree
from signxml.algorithms import (
    CanonicalizationMethod,
    DigestAlgorithm,
    SignatureMethod,
)
from signxml.signer import XMLSigner

from muster.alerting.cap_xml import alert_xml, validate_alert
from muster.alerting.domain.errors import AlertInvalid
from muster.alerting.domain.model import AlertContent
from muster.core.errors import ConfigurationError
from muster.ingest.formats.secure_xml import make_parser
from muster.ingest.formats.signatures import DS, DS_SIGNATURE

KEY_FILE = Path("keys") / "cap-alert-rsa.pem"
CERT_FILE = Path("keys") / "cap-alert-cert.pem"
KEY_BITS = 3072
CERT_YEARS = 10
_CLOCK_SKEW = timedelta(days=1)
_Stamp = tuple[tuple[int, int, int], ...]


@dataclass(frozen=True, slots=True)
class AlertSigner:
    """The deployment's alert-signing key and its self-signed certificate."""

    private_key: rsa.RSAPrivateKey = field(repr=False)
    certificate: x509.Certificate

    @property
    def fingerprint(self) -> str:
        """Return the certificate's SHA-256 fingerprint (hex), to publish."""
        return self.certificate.fingerprint(hashes.SHA256()).hex()

    def certificate_pem(self) -> bytes:
        """Return the certificate as PEM (public; safe to publish)."""
        return self.certificate.public_bytes(Encoding.PEM)


_CACHE: dict[tuple[str, str], tuple[_Stamp, AlertSigner]] = {}
_CACHE_LOCK = threading.Lock()


def alert_signer(data_dir: Path, name: str) -> AlertSigner:
    """Load the alert-signing key from ``data_dir``, creating it on first use.

    ``name`` (the alert sender) is the certificate's common name; when it changes,
    a new certificate is issued for the same key. Loading checks the RSA key, which
    takes most of a second, so a process keeps what it loaded until the files change.
    """
    if not name.strip():
        raise ConfigurationError("the alert signer needs the sender's name")
    key_path = data_dir / KEY_FILE
    cert_path = data_dir / CERT_FILE
    cache_key = (str(key_path.resolve()), name)
    with _CACHE_LOCK:
        cached = _CACHE.get(cache_key)
        if cached is not None and cached[0] == _stamp(key_path, cert_path):
            return cached[1]
        key_path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        key = _load_or_create_key(key_path)
        certificate = _load_certificate(cert_path, key)
        if certificate is None or _common_name(certificate) != name:
            certificate = _issue_certificate(key, name)
            pem = certificate.public_bytes(Encoding.PEM)
            _write_private(cert_path, pem, replace=True)
        signer = AlertSigner(key, certificate)
        _CACHE[cache_key] = (_stamp(key_path, cert_path), signer)
        return signer


def _stamp(*paths: Path) -> _Stamp:
    """Identify the files' current versions (inode, size, mtime), absent as zeros."""
    stamps = []
    for path in paths:
        try:
            status = path.stat()
        except FileNotFoundError:
            stamps.append((0, 0, 0))
        else:
            stamps.append((status.st_ino, status.st_size, status.st_mtime_ns))
    return tuple(stamps)


def sign_alert(xml: bytes, signer: AlertSigner) -> bytes:
    """Return ``xml`` with an enveloped signature over the whole alert appended."""
    root = etree.fromstring(xml, make_parser())
    if any(child.tag == DS_SIGNATURE for child in root):
        raise AlertInvalid("the alert is signed already", field="signature")
    signed = XMLSigner(
        signature_algorithm=SignatureMethod.RSA_SHA256,
        digest_algorithm=DigestAlgorithm.SHA256,
        c14n_algorithm=CanonicalizationMethod.EXCLUSIVE_XML_CANONICALIZATION_1_0,
    ).sign(root, key=signer.private_key, cert=[signer.certificate])
    return etree.tostring(signed, xml_declaration=True, encoding="UTF-8")


def render_alert(
    content: AlertContent, sent: str, signer: AlertSigner | None
) -> tuple[bytes, bool]:
    """Compose, validate and (with a signer) sign an alert: (CAP XML, signed?).

    The signed document is validated again, so its signature is verified by
    Muster's own ingest before anything is published.
    """
    xml = alert_xml(content, sent)
    validate_alert(xml)
    if signer is None:
        return xml, False
    signed = sign_alert(xml, signer)
    validate_alert(signed)
    return signed, True


def _load_or_create_key(path: Path) -> rsa.RSAPrivateKey:
    """Load the key, or create it (two processes racing keep the first one)."""
    if not path.exists():
        key = rsa.generate_private_key(public_exponent=65537, key_size=KEY_BITS)
        pem = key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
        if _write_private(path, pem, replace=False):
            return key
    loaded = load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(loaded, rsa.RSAPrivateKey):
        raise ConfigurationError(
            f"{path} is not an RSA private key; move it away to make a new one",
            path=str(path),
        )
    return loaded


def _load_certificate(path: Path, key: rsa.RSAPrivateKey) -> x509.Certificate | None:
    """Load the certificate if it exists, belongs to ``key`` and is still valid."""
    if not path.exists():
        return None
    certificate = x509.load_pem_x509_certificate(path.read_bytes())
    public = certificate.public_key()
    if not isinstance(public, rsa.RSAPublicKey) or (
        public.public_numbers() != key.public_key().public_numbers()
    ):
        return None
    if certificate.not_valid_after_utc <= datetime.now(UTC) + _CLOCK_SKEW:
        return None
    return certificate


def _issue_certificate(key: rsa.RSAPrivateKey, name: str) -> x509.Certificate:
    """Issue a self-signed certificate for ``key`` with common name ``name``."""
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.now(UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - _CLOCK_SKEW)
        .not_valid_after(now + timedelta(days=365 * CERT_YEARS))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=True,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .sign(key, hashes.SHA256())
    )


def _common_name(certificate: x509.Certificate) -> str:
    """Return the certificate's common name ("" if none)."""
    names = certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    value = names[0].value if names else ""
    return value if isinstance(value, str) else value.decode()


def _write_private(path: Path, data: bytes, *, replace: bool) -> bool:
    """Write a 0600 file whole: through a temporary file, so no reader sees half.

    With ``replace=False`` an existing file wins (``os.link`` refuses to overwrite);
    answer whether ``data`` is now the file.
    """
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    try:
        with os.fdopen(descriptor, "wb") as handle:  # mkstemp opens it 0600
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        if replace:
            os.replace(temporary, path)
            return True
        try:
            os.link(temporary, path)
        except FileExistsError:  # another process created it first: keep theirs
            return False
        return True
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)


def certificate_digest(xml: bytes) -> str | None:
    """Return the SHA-256 (hex) of the certificate an alert embeds, if any."""
    root = etree.fromstring(xml, make_parser())
    encoded = root.findtext(f"{DS_SIGNATURE}/{{{DS}}}KeyInfo//{{{DS}}}X509Certificate")
    if encoded is None:
        return None
    return hashlib.sha256(b64decode("".join(encoded.split()))).hexdigest()


__all__ = [
    "AlertSigner",
    "alert_signer",
    "certificate_digest",
    "render_alert",
    "sign_alert",
]
