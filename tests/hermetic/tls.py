"""A self-signed certificate for the fixtures' HTTPS index (host `tlsindex`), made with openssl."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

HOST = "tlsindex"
SERVER = Path(__file__).with_name("tls_server.py")


def make_tls_dir(root: Path) -> Path:
    """`root` with cert.pem, key.pem (valid two days, for HOST) and the server script."""
    root.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
            "-keyout", str(root / "key.pem"), "-out", str(root / "cert.pem"),
            "-subj", f"/CN={HOST}", "-addext", f"subjectAltName=DNS:{HOST}",
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip
    (root / "key.pem").chmod(0o644)  # read by the server container's user
    shutil.copy(SERVER, root / SERVER.name)
    return root
