"""The gateway's certificate: a Pulumi dynamic resource that makes a CA of the stack's own and a
serving certificate for the host name signed by it, and renews the serving certificate at the
first `pulumi up` (or shows it in a preview) once it is within RENEW_BEFORE_DAYS of its end.

The private keys are secret outputs: Pulumi keeps them encrypted in the state (they never leave
the stack and the Kubernetes Secret). The CA certificate is public: users trust it
(`curl --cacert`), and it stays the same through renewals and host name changes.
"""

from __future__ import annotations

import datetime
from typing import Any

import pulumi
from pulumi.dynamic import CreateResult, DiffResult, ResourceProvider, UpdateResult

CA_DAYS = 3650
SERVING_DAYS = 90
RENEW_BEFORE_DAYS = 30
"""As the ACME CAs do: 90-day certificates, renewed when 30 days are left."""


def now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


def new_key() -> Any:
    from cryptography.hazmat.primitives.asymmetric import ec

    return ec.generate_private_key(ec.SECP256R1())


def pem_of_key(key: Any) -> str:
    from cryptography.hazmat.primitives import serialization

    text: bytes = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return text.decode()


def pem_of_certificate(certificate: Any) -> str:
    from cryptography.hazmat.primitives import serialization

    text: bytes = certificate.public_bytes(serialization.Encoding.PEM)
    return text.decode()


def make_ca(common_name: str) -> tuple[str, str]:
    """(key, certificate) of a new CA, in PEM."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.x509.oid import NameOID

    key = new_key()
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    start = now() - datetime.timedelta(minutes=5)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + datetime.timedelta(days=CA_DAYS))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False),
            critical=True,  # keyCertSign, cRLSign
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
        .sign(key, hashes.SHA256())
    )
    return pem_of_key(key), pem_of_certificate(certificate)


def make_serving(hostname: str, ca_key_pem: str, ca_pem: str) -> tuple[str, str, str]:
    """(key, certificate, not_after) of a serving certificate for `hostname` signed by the CA."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    ca_key = serialization.load_pem_private_key(ca_key_pem.encode(), password=None)
    ca = x509.load_pem_x509_certificate(ca_pem.encode())
    ca_public_key = ca.public_key()
    assert isinstance(ca_key, ec.EllipticCurvePrivateKey), "the CA's key is an EC key"
    assert isinstance(ca_public_key, ec.EllipticCurvePublicKey), "the CA's key is an EC key"
    key = new_key()
    start = now() - datetime.timedelta(minutes=5)
    end = start + datetime.timedelta(days=SERVING_DAYS)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, hostname)]))
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(hostname)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_public_key),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    return pem_of_key(key), pem_of_certificate(certificate), end.isoformat()


def renewal_due(not_after: str) -> bool:
    left = datetime.datetime.fromisoformat(not_after) - now()
    return left < datetime.timedelta(days=RENEW_BEFORE_DAYS)


def issue(props: dict[str, Any], olds: dict[str, Any] | None) -> dict[str, Any]:
    """The outputs: the CA of `olds` when there is one, and a new serving certificate."""
    if olds and olds.get("ca_private_key"):
        ca_key, ca = olds["ca_private_key"], olds["ca_certificate"]
    else:
        ca_key, ca = make_ca(props["ca_name"])
    key, certificate, not_after = make_serving(props["hostname"], ca_key, ca)
    return {
        **props,
        "ca_certificate": ca,
        "ca_private_key": ca_key,
        "certificate": certificate,
        "private_key": key,
        "not_after": not_after,
    }


class CertificateProvider(ResourceProvider):
    serialize_as_secret_always = False  # it captures nothing secret

    def create(self, props: dict[str, Any]) -> CreateResult:
        return CreateResult(id_="certificate", outs=issue(props, None))

    def diff(self, _id: str, _olds: dict[str, Any], _news: dict[str, Any]) -> DiffResult:
        changed = _olds.get("hostname") != _news["hostname"] or renewal_due(_olds["not_after"])
        return DiffResult(changes=changed, replaces=[], delete_before_replace=False)

    def update(self, _id: str, _olds: dict[str, Any], _news: dict[str, Any]) -> UpdateResult:
        return UpdateResult(outs=issue(_news, _olds))


SECRET_OUTPUTS = ["ca_private_key", "private_key"]


class ServingCertificate(pulumi.dynamic.Resource, module="demo-orq", name="ServingCertificate"):
    """A serving certificate for `hostname` and the stack's CA that signs it."""

    ca_certificate: pulumi.Output[str]
    certificate: pulumi.Output[str]
    private_key: pulumi.Output[str]
    not_after: pulumi.Output[str]

    def __init__(self, name: str, hostname: str, ca_name: str, opts: pulumi.ResourceOptions):
        outputs = dict.fromkeys(
            ["ca_certificate", "certificate", "not_after", *SECRET_OUTPUTS], None
        )
        secrets = pulumi.ResourceOptions(additional_secret_outputs=SECRET_OUTPUTS)
        super().__init__(
            CertificateProvider(),
            name,
            {"hostname": hostname, "ca_name": ca_name, **outputs},
            pulumi.ResourceOptions.merge(opts, secrets),
        )
