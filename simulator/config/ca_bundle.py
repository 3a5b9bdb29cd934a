"""The CA bundle a build trusts (`--ca-cert`): checked when given, before any image is built.

The bundle is copied into the build image and named by pip's, uv's, cargo's and curl's settings
inside; a file that is not one (a DER certificate, a private key, the wrong file) would only
show up as TLS failures deep in the build log, after the image was made for nothing.
"""

from __future__ import annotations

import ssl
from pathlib import Path

from simulator.errors import UsageError


def check_ca_bundle(path: Path, option: str = "--ca-cert") -> None:
    """A UsageError unless OpenSSL loads `path` as a PEM bundle of certificates.

    Only what OpenSSL says is reported, never the file's content.
    """
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    try:
        context.load_verify_locations(cafile=str(path))
    except (ssl.SSLError, OSError, ValueError) as error:
        reason = getattr(error, "reason", None) or getattr(error, "strerror", None) or "unreadable"
        raise UsageError(
            f"{option} {path} is not a PEM bundle of CA certificates "
            f"(OpenSSL: {str(reason).lower().replace('_', ' ')})",
            hint="give the CA certificate(s) in PEM form: text blocks starting with "
            "-----BEGIN CERTIFICATE----- (convert a DER file with "
            "`openssl x509 -inform der -in FILE -out FILE.pem`)",
        ) from None
