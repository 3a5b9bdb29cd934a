"""Rewrite the uv.lock of the scenarios that use uv, with real uv against the generated index.

    .venv/bin/python -m tests.hermetic.relock

Run it after changing a package those scenarios install (tests/unit/test_hermetic_packages.py
fails until then). uv runs in render-sim's own build image for Render's default Python, the one
a scenario's build uses, with the generated index served next to it as host `index`; the
container has no network at all, so the lock can only come from that index.

`LOCKS` says which scenario's pyproject.toml is locked and which scenarios get that lock: the
uv-frozen pair shares one project; `uv-locked-stale` gets that same lock under a pyproject.toml
that gained a dependency since (stale by construction); the `uv pip` scenarios only need a uv.lock
to exist (Render adds uv for a service that has one).
"""

from __future__ import annotations

import io
import shutil
import tarfile
import tempfile
import textwrap
from datetime import date
from pathlib import Path

import docker

from simulator.build import endpoints
from simulator.build.simulation import build_image
from simulator.plan.build_plan import make_plan
from simulator.plan.models import Options
from tests.hermetic import backends, packages

PROJECT_ROOT = Path(__file__).resolve().parents[2]
UV_SCENARIOS = ("uv-frozen-heavy-group", "uv-frozen-no-dev")
#: the scenario whose pyproject.toml is locked -> every scenario that gets that uv.lock
LOCKS: dict[str, tuple[str, ...]] = {
    "uv-frozen-heavy-group": (
        *UV_SCENARIOS,
        "uv-locked-stale",
        "requires-python-excludes-uv",
        "c-extension-missing-header-uv",
        "resolver-conflict-uv",
        "uv-system-readonly",
        "python-guard-uv",
        "tls-untrusted-index-uv",
    ),
    "rust-sdist-readonly-cargo-uv": ("rust-sdist-readonly-cargo-uv",),
    "abi-only-older-pythons-uv": ("abi-only-older-pythons-uv",),
}
#: scenarios that share one project (their pyproject.toml files are the same)
SHARED_PROJECTS = (UV_SCENARIOS,)
CREATED = date(2026, 3, 1)  # the scenarios' creation date: Render's default Python 3.14.3
UV = "/opt/render-sim/uv/bin/uv"


def uv_image(client: docker.DockerClient, project: Path) -> str:
    """The build image a scenario with a uv.lock gets (it carries Render's default uv)."""
    with tempfile.TemporaryDirectory(prefix="render-sim-relock-") as tmp:
        repo = Path(tmp)
        shutil.copy(project / "pyproject.toml", repo / "pyproject.toml")
        (repo / "uv.lock").write_text("")  # only its presence matters: Render then adds uv
        options = Options(created=CREATED, build_command="uv sync --frozen", probe_network=False)
        plan = make_plan(repo, options, client=client)
        tag, _ = build_image(client, plan, plan.services[0], pull=False)
    return tag


def lock(client: docker.DockerClient, image: str, index: Path, pyproject: str) -> str:
    """uv.lock for `pyproject`, resolved by `uv lock` against the index at `index`."""
    script = textwrap.dedent(
        f"""\
        set -e
        python3 -m http.server 8000 --bind 127.0.0.1 --directory /srv/index >/dev/null 2>&1 &
        for _ in $(seq 50); do
            python3 -c 'import urllib.request as u; u.urlopen("{packages.INDEX_URL}")' 2>/dev/null \\
                && break
            sleep 0.1
        done
        mkdir -p /tmp/project && cd /tmp/project
        cp /tmp/pyproject.in pyproject.toml
        {UV} lock >&2
        cat uv.lock
        """
    )
    container = client.containers.create(
        image,
        ["bash", "-c", script],
        network_mode="none",
        extra_hosts={"index": "127.0.0.1"},
        environment={"UV_PYTHON_DOWNLOADS": "never", "UV_NO_CACHE": "1"},
        volumes={str(index): {"bind": "/srv/index", "mode": "ro"}},
        labels={"render-sim": "1"},
    )
    try:
        container.put_archive("/tmp", _tar({"pyproject.in": pyproject}))
        container.start()
        result = container.wait(timeout=300)
        stdout = container.logs(stdout=True, stderr=False).decode()
        stderr = container.logs(stdout=False, stderr=True).decode()
    finally:
        container.remove(force=True)
    if result.get("StatusCode") != 0:
        raise SystemExit(f"uv lock failed:\n{stderr}")
    return stdout


def _tar(files: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        for name, text in files.items():
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def main() -> None:
    client = endpoints.connect()
    scenarios = PROJECT_ROOT / "scenarios"
    for group in SHARED_PROJECTS:
        texts = {(scenarios / name / "pyproject.toml").read_text() for name in group}
        if len(texts) != 1:
            raise SystemExit(f"the pyproject.toml files of {group} differ")
    image = uv_image(client, scenarios / next(iter(LOCKS)))
    with tempfile.TemporaryDirectory(prefix="render-sim-fixtures-") as tmp:
        fixtures = packages.generate(Path(tmp), backends.fetch_backends())
        for source, targets in LOCKS.items():
            text = lock(
                client, image, fixtures.index, (scenarios / source / "pyproject.toml").read_text()
            )
            for target in targets:
                (scenarios / target / "uv.lock").write_text(text)
                print(f"wrote {scenarios / target / 'uv.lock'}")


if __name__ == "__main__":
    main()
