"""Logs made by real builds, with the labels their making gives them, kept for the unit tests.

A failing hermetic scenario is a real build whose failure class and package its manifest states
(`expect`); `from_scenario` turns its result into a `GeneratedLog`. Two runtime cases start an
app for real after a successful build (`runtime_log`). `keep` writes a log and its wrapped forms
(tests/hermetic/wrappers.py) to a folder; `refresh` replaces the copies under
tests/unit/generated_logs/, in the corpus's format (front matter, then the log), which the unit
tests read back with `read_kept` and classify without Docker.
"""

from __future__ import annotations

import shlex
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import docker

from simulator.diagnose.diagnosis import FAILURE_CLASSES, RUNTIME_CLASSES
from simulator.scenarios.discovery import discover
from simulator.scenarios.run import ScenarioResult
from tests.hermetic.wrappers import BuildOutput, build_output, wrappers_for

SCENARIOS_DIR = Path(__file__).resolve().parents[2] / "scenarios"
BUILD_CLASSES = frozenset(FAILURE_CLASSES) - frozenset(RUNTIME_CLASSES)
RUNTIME_BUILD = "uv-frozen-no-dev"  # a hermetic scenario whose build succeeds
VENV_BIN = "/opt/render/project/src/.venv/bin"  # first on PATH, as for Render's start command


@dataclass(frozen=True)
class GeneratedLog:
    """A real build's log and the class and package its making gives it."""

    name: str
    failure_class: str
    package: str | None
    source: str
    output: BuildOutput


@dataclass(frozen=True)
class RuntimeCase:
    """A start command that fails for real once the build succeeded."""

    name: str
    failure_class: str
    start_command: str
    memory: str | None = None


RUNTIME_CASES = (
    RuntimeCase("runtime-missing-module", "runtime-crash", "python -c 'import rsim_light.server'"),
    RuntimeCase(
        "runtime-memory-limit",
        "runtime-out-of-memory",
        "python -c 'tables = [b\"x\" * (32 << 20) for _ in range(64)]'",
        memory="128m",
    ),
)


def failing_hermetic_scenarios() -> list[str]:
    """The hermetic scenarios whose manifest expects a failure class."""
    return sorted(
        s.name for s in discover([SCENARIOS_DIR], kind="hermetic") if s.expect.failure_class
    )


def classes_made() -> set[str]:
    """Every failure class a hermetic scenario or a runtime case reproduces."""
    made = {
        s.expect.failure_class
        for s in discover([SCENARIOS_DIR], kind="hermetic")
        if s.expect.failure_class
    }
    return {c for c in made if c} | {case.failure_class for case in RUNTIME_CASES}


def from_scenario(result: ScenarioResult) -> GeneratedLog | None:
    """The failed build of a scenario that expects a class, else None."""
    scenario, build = result.scenario, result.result
    if build is None or build.succeeded or not scenario.expect.failure_class:
        return None
    python = scenario.options.python or "Render's default"
    source = f"render-sim hermetic scenario {scenario.name}, Python {python}: " + " ".join(
        scenario.description.split()
    )
    output = build_output(build.log_text, build.exit_code, build.outcome, build.event)
    return GeneratedLog(
        scenario.name, scenario.expect.failure_class, scenario.expect.package, source, output
    )


def runtime_log(
    client: docker.DockerClient, image: str, build_log: str, case: RuntimeCase
) -> GeneratedLog:
    """A successful build's log followed by Render's deploy lines and a real app start."""
    container = client.containers.run(
        image,
        ["bash", "-c", case.start_command],
        environment={"PATH": f"{VENV_BIN}:/usr/local/bin:/usr/bin:/bin"},
        detach=True,
        network_mode="none",
        mem_limit=case.memory,
        memswap_limit=case.memory,
        labels={"render-sim.test": "generated-runtime"},
    )
    try:
        status = container.wait(timeout=120)["StatusCode"]
        output = container.logs(stdout=True, stderr=True).decode("utf-8", "replace")
    finally:
        container.remove(force=True)
    lines = [
        "==> Uploading build...",
        "==> Uploaded in 2.1s. Compression took 0.4s",
        "==> Build successful 🎉",
        "==> Deploying...",
        f"==> Running '{case.start_command}'",
        *output.rstrip("\n").splitlines(),
        f"==> Exited with status {status}",
    ]
    text = build_log.rstrip("\n").replace("==> Build successful 🎉", "").rstrip("\n")
    log = text + "\n" + "\n".join(lines) + "\n"
    source = (
        f"render-sim runtime case {case.name}: {shlex.join(['bash', '-c', case.start_command])}"
    )
    out = BuildOutput("", (), status, "runtime-failed", log)
    return GeneratedLog(case.name, case.failure_class, None, source, out)


def keep(log: GeneratedLog, folder: Path) -> None:
    """Write the log as made and in every wrapper that applies to it."""
    for wrapper, wrap in wrappers_for(log.output).items():
        (folder / f"{log.name}--{wrapper}.log").write_text(wrap(log.output), encoding="utf-8")


def _front_matter(log: GeneratedLog) -> str:
    output = log.output
    fields = {
        "class": log.failure_class,
        "package": log.package or "n/a",
        "source": log.source,
        "outcome": output.outcome,
        "exit_code": "" if output.exit_code is None else str(output.exit_code),
        "event": output.event,
    }
    return "---\n" + "".join(f"{k}: {v}\n" for k, v in fields.items()) + "---\n"


def refresh(logs: Iterable[GeneratedLog], folder: Path, clear: bool = True) -> None:
    """Replace the kept copies in `folder` with `logs` (all of them when `clear`)."""
    folder.mkdir(parents=True, exist_ok=True)
    if clear:
        for old in folder.glob("*.log"):
            old.unlink()
    for log in logs:
        text = _front_matter(log) + log.output.render_log
        (folder / f"{log.name}.log").write_text(text, encoding="utf-8")


def read_kept(path: Path) -> GeneratedLog:
    """A kept copy, as `refresh` wrote it."""
    text = path.read_text(encoding="utf-8")
    header, body = text[4:].split("\n---\n", 1)
    fields = dict(
        line.split(": ", 1) if ": " in line else (line.rstrip(":"), "")
        for line in header.splitlines()
    )
    outcome = fields["outcome"]
    code = int(fields["exit_code"]) if fields.get("exit_code") else None
    if outcome == "runtime-failed":
        output = BuildOutput("", (), code, outcome, body)
    else:
        output = build_output(body, code, outcome, fields.get("event", ""))
    package = None if fields["package"] == "n/a" else fields["package"]
    return GeneratedLog(path.stem, fields["class"], package, fields["source"], output)
