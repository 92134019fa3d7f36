"""Signed CAP alerts: the deployment's key, verified by Muster's ingest and xmlsec1."""

from __future__ import annotations

import shutil
import stat
import subprocess
from pathlib import Path

import pytest
from cryptography.x509.oid import NameOID
from lxml import etree

from muster.alerting.cap_xml import alert_xml, validate_alert
from muster.alerting.domain.errors import AlertInvalid
from muster.alerting.signing import (
    CERT_FILE,
    KEY_FILE,
    AlertSigner,
    alert_signer,
    certificate_digest,
    render_alert,
    sign_alert,
)
from muster.ingest.formats import FormatRejected, parse_cap
from muster.ingest.formats.signatures import DS, DS_SIGNATURE
from tests.unit.alerting import samples

XMLSEC1 = shutil.which("xmlsec1")
EXCLUSIVE_C14N = "http://www.w3.org/2001/10/xml-exc-c14n#"
RSA_SHA256 = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"


@pytest.fixture(scope="module")
def signer(tmp_path_factory: pytest.TempPathFactory) -> AlertSigner:
    """The deployment's signer, made once for the module (RSA keys take a moment)."""
    return alert_signer(tmp_path_factory.mktemp("data"), samples.SENDER)


@pytest.fixture(scope="module")
def signed(signer: AlertSigner) -> bytes:
    """A signed two-language Update."""
    return sign_alert(alert_xml(samples.update(), samples.SENT), signer)


def xmlsec1_verify(xml: bytes, signer: AlertSigner, folder: Path) -> tuple[int, str]:
    """Run ``xmlsec1 --verify`` trusting the signer's certificate; (rc, output)."""
    assert XMLSEC1 is not None, "the tests verify with xmlsec1: apt-get install xmlsec1"
    (folder / "alert.xml").write_bytes(xml)
    (folder / "cert.pem").write_bytes(signer.certificate_pem())
    done = subprocess.run(
        [XMLSEC1, "--verify", "--trusted-pem", str(folder / "cert.pem"),
         str(folder / "alert.xml")],
        capture_output=True,
        check=False,
    )  # fmt: skip
    return done.returncode, (done.stdout + done.stderr).decode("utf-8", "replace")


def test_given_an_empty_data_dir_when_a_signer_is_asked_then_key_files_are_private(
    tmp_path: Path,
) -> None:
    """The key and certificate are created on first use, 0600, in a 0700 folder."""
    signer = alert_signer(tmp_path, samples.SENDER)

    for name in (KEY_FILE, CERT_FILE):
        assert stat.S_IMODE((tmp_path / name).stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / KEY_FILE).parent.stat().st_mode) == 0o700
    common_name = signer.certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    assert [attribute.value for attribute in common_name] == [samples.SENDER]
    assert list(tmp_path.glob("keys/.tmp-*")) == []


def test_given_an_existing_key_when_asked_again_then_the_same_key_is_used(
    tmp_path: Path,
) -> None:
    """A second call loads the same key; a new sender name gets a new certificate."""
    first = alert_signer(tmp_path, samples.SENDER)
    key_bytes = (tmp_path / KEY_FILE).read_bytes()

    again = alert_signer(tmp_path, samples.SENDER)
    renamed = alert_signer(tmp_path, "alerts@other.example.org")

    assert again.fingerprint == first.fingerprint
    assert (tmp_path / KEY_FILE).read_bytes() == key_bytes
    assert renamed.fingerprint != first.fingerprint
    assert (
        renamed.certificate.public_key().public_numbers()
        == first.certificate.public_key().public_numbers()
    )
    assert "other.example.org" in renamed.certificate.subject.rfc4514_string()


def test_given_a_lost_certificate_when_asked_then_a_new_one_is_issued(
    tmp_path: Path,
) -> None:
    """The process keeps its signer until the files change; then it reads them."""
    first = alert_signer(tmp_path, samples.SENDER)
    assert alert_signer(tmp_path, samples.SENDER) is first

    (tmp_path / CERT_FILE).unlink()
    again = alert_signer(tmp_path, samples.SENDER)

    assert (tmp_path / CERT_FILE).exists()
    assert again.certificate.serial_number != first.certificate.serial_number
    assert (
        again.certificate.public_key().public_numbers()
        == first.certificate.public_key().public_numbers()
    )


def test_given_a_signer_when_shown_then_no_key_material_appears(
    signer: AlertSigner,
) -> None:
    """repr and str of the signer leave the private key out."""
    shown = f"{signer!r} {signer}"

    assert "private" not in shown.lower()
    assert "PRIVATE KEY" not in signer.certificate_pem().decode()


def test_given_a_signed_alert_when_muster_ingests_it_then_our_certificate_verifies(
    signer: AlertSigner, signed: bytes
) -> None:
    """parse_cap verifies the signature by pinning the embedded certificate: ours."""
    parsed = parse_cap(signed)

    assert parsed.signature == "valid"
    assert f"CN={samples.SENDER}" in parsed.signature_detail
    assert certificate_digest(signed) == signer.fingerprint
    validate_alert(signed)


def test_given_a_signed_alert_when_capparselib_reads_it_then_it_accepts_it(
    signed: bytes,
) -> None:
    """The peer parser's CAP 1.2 schema allows the enveloped ds:Signature."""
    parsed = samples.capparselib_dict(signed)

    assert str(parsed["cap_id"]) == samples.update().identifier


def test_given_a_signed_alert_when_xmlsec1_verifies_it_then_it_is_ok(
    signer: AlertSigner, signed: bytes, tmp_path: Path
) -> None:
    """xmlsec1, trusting only the deployment's certificate, verifies the alert."""
    code, output = xmlsec1_verify(signed, signer, tmp_path)

    assert code == 0, output
    assert "OK" in output


def test_given_a_signed_alert_when_inspected_then_it_signs_the_whole_alert(
    signed: bytes,
) -> None:
    """One enveloped signature, last child, one Reference URI="" (the whole alert)."""
    root = etree.fromstring(signed)
    signature = root[-1]
    references = signature.findall(f"{{{DS}}}SignedInfo/{{{DS}}}Reference")

    assert signature.tag == DS_SIGNATURE
    assert [reference.get("URI") for reference in references] == [""]
    assert (
        signature.find(f"{{{DS}}}SignedInfo/{{{DS}}}CanonicalizationMethod").get(
            "Algorithm"
        )
        == EXCLUSIVE_C14N
    )
    assert (
        signature.find(f"{{{DS}}}SignedInfo/{{{DS}}}SignatureMethod").get("Algorithm")
        == RSA_SHA256
    )
    assert signature.find(f"{{{DS}}}KeyInfo/{{{DS}}}X509Data") is not None


def test_given_a_changed_signed_alert_when_verified_then_both_verifiers_refuse(
    signer: AlertSigner, signed: bytes, tmp_path: Path
) -> None:
    """One changed word after signing fails Muster's ingest and xmlsec1."""
    tampered = signed.replace("暴雨橙色预警".encode(), "暴雨蓝色预警".encode())
    assert tampered != signed

    with pytest.raises(FormatRejected) as caught:
        parse_cap(tampered)
    code, output = xmlsec1_verify(tampered, signer, tmp_path)

    assert caught.value.reason == "signature_invalid"
    assert code != 0, output


def test_given_a_swapped_certificate_when_verified_then_both_verifiers_refuse(
    signer: AlertSigner, signed: bytes, tmp_path: Path
) -> None:
    """Someone else's certificate in our signature verifies with neither tool."""
    other = alert_signer(tmp_path / "other", samples.SENDER)
    ours = etree.fromstring(signed).findtext(f".//{{{DS}}}X509Certificate")
    theirs = etree.fromstring(
        sign_alert(alert_xml(samples.alert(), samples.SENT), other)
    ).findtext(f".//{{{DS}}}X509Certificate")
    assert ours is not None
    assert theirs is not None
    swapped = signed.replace(ours.encode(), theirs.encode())

    with pytest.raises(FormatRejected) as caught:
        parse_cap(swapped)
    code, output = xmlsec1_verify(swapped, other, tmp_path)

    assert caught.value.reason == "signature_invalid"
    assert code != 0, output


def test_given_a_signed_alert_when_signed_again_then_it_is_refused(
    signer: AlertSigner, signed: bytes
) -> None:
    """A second enveloped signature would not cover the first: refused."""
    with pytest.raises(AlertInvalid, match="signed already"):
        sign_alert(signed, signer)


def test_given_a_signer_when_rendering_then_the_alert_is_validated_and_signed(
    signer: AlertSigner,
) -> None:
    """render_alert (the publish port) signs with a signer and not without."""
    xml, was_signed = render_alert(samples.cancel(), samples.SENT, signer)
    plain, plain_signed = render_alert(samples.cancel(), samples.SENT, None)

    assert was_signed
    assert parse_cap(xml).signature == "valid"
    assert not plain_signed
    assert parse_cap(plain).signature == "absent"
