"""Running pip for Render's target: `pip install --dry-run --report`, wheels only.

pip runs in a subprocess of render-sim's own Python, isolated from the host's pip configuration,
with the target's Python version, platforms, implementation and ABI, and with PEP 508 markers
evaluated for the target. `run_pip` returns pip's exit code, output and JSON report.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from simulator.check.results import IndexUnavailableError
from simulator.errors import RenderSimError
from simulator.index.session import host_ca_bundle
from simulator.render.target import Target

PIP_TIMEOUT_S = 600.0


#: Runs pip for the target (the configuration files are off through PIP_CONFIG_FILE=/dev/null):
#: - PEP 508 markers are evaluated for the target (pip evaluates requirement markers with the
#:   running interpreter's values, even with --python-version);
#: - the supported tags are matched as a set (pip 23 scans the list for every file, seconds on
#:   big projects once ~30 manylinux platforms are given).
#: Each patch is skipped if this pip's internals differ; the report says when markers were not
#: evaluated for the target.
_PIP_RUNNER = """
import json, sys
environment = json.loads(sys.argv[1])
try:
    from pip._vendor.packaging import markers
    markers.default_environment = lambda: dict(environment)
except Exception:
    pass
try:
    from pip._internal.models.wheel import Wheel
    _sets = {}
    def _supported(self, tags):
        key = id(tags)
        known = _sets.get(key)
        if known is None or known[0] is not tags:
            known = _sets[key] = (tags, frozenset(tags))
        return not self.file_tags.isdisjoint(known[1])
    Wheel.supported = _supported
except Exception:
    pass
from pip._internal.cli.main import main
sys.exit(main(sys.argv[2:]))
"""


@dataclass(frozen=True)
class PipRun:
    returncode: int
    output: str
    report: dict[str, Any] | None
    seconds: float


def pip_environment() -> dict[str, str]:
    """The host environment without any PIP_* variable, with no pip config file."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIP_")}
    env["PIP_CONFIG_FILE"] = os.devnull
    env["PYTHONNOUSERSITE"] = "1"
    return env


def run_pip(
    requirements: Sequence[str],
    constraints: Sequence[str],
    target: Target,
    index_urls: Sequence[str],
    *,
    find_links: Sequence[str] = (),
    pre: bool = False,
    no_deps: bool = False,
    python: str | None = None,
) -> PipRun:
    """`pip install --dry-run --report` for the target, wheels only; never raises on pip's
    failure (the caller reads `returncode` and `output`)."""
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="render-sim-check-") as work:
        folder = Path(work)
        (folder / "requirements.txt").write_text("\n".join(requirements) + "\n")
        args = [
            "install",
            "--dry-run",
            "--report",
            str(folder / "report.json"),
            "--ignore-installed",
            "--only-binary=:all:",
            "--python-version",
            target.version,
            *[arg for platform in target.platforms() for arg in ("--platform", platform)],
            "--implementation",
            "cp",
            "--abi",
            target.abi,
            "--target",
            str(folder / "target"),
            "--index-url",
            index_urls[0],
            *[arg for url in index_urls[1:] for arg in ("--extra-index-url", url)],
            *[arg for link in find_links for arg in ("--find-links", link)],
            "--disable-pip-version-check",
            # The index is the local stand-in, which already went to the upstream: a failed
            # page is not retried with pip's backoff (seconds per page, minutes per run).
            "--retries",
            "0",
            "--no-input",
            "--isolated",
            "--progress-bar",
            "off",
            "-r",
            str(folder / "requirements.txt"),
        ]
        if constraints:
            (folder / "constraints.txt").write_text("\n".join(constraints) + "\n")
            args += ["-c", str(folder / "constraints.txt")]
        if pre:
            args.append("--pre")
        if no_deps:
            args.append("--no-deps")
        cert, _ = host_ca_bundle()  # the bundle every index request of render-sim trusts
        if cert:
            args += ["--cert", str(cert)]
        command = [
            python or sys.executable,
            "-c",
            _PIP_RUNNER,
            json.dumps(target.environment()),
            *args,
        ]
        try:
            done = subprocess.run(
                command,
                env=pip_environment(),
                capture_output=True,
                text=True,
                timeout=PIP_TIMEOUT_S,
                cwd=work,
                check=False,
            )
        except subprocess.TimeoutExpired as error:
            raise IndexUnavailableError(
                f"pip did not finish resolving within {PIP_TIMEOUT_S:.0f} s",
                hint="check the network, or the index URL",
            ) from error
        except OSError as error:
            raise RenderSimError(
                f"cannot run pip for the check: {error}",
                hint="render-sim check needs pip in render-sim's own environment",
            ) from error
        report = None
        report_path = folder / "report.json"
        if done.returncode == 0 and report_path.is_file():
            with contextlib.suppress(ValueError, OSError):
                report = json.loads(report_path.read_text())
        return PipRun(
            done.returncode, done.stdout + done.stderr, report, time.monotonic() - started
        )
