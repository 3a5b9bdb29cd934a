"""Run one planned service in a Render-shaped container: plan -> image -> container -> log.

`simulate_service` returns a `BuildResult` (plain data); it never prints by itself: lines go to
the `echo` callback and image progress to `progress`, so the CLI, scenarios and tests share it.
"""

from __future__ import annotations

import re
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import docker

from simulator.build import image_build, images
from simulator.build.buildlog import MIN_SECRET_LENGTH, BuildLog, Echo, log_path_for
from simulator.build.cache import cache_volume_name, prepare_cache
from simulator.build.container import BuildContainer, ExecResult
from simulator.build.memory import MemorySampler, MemoryTrace
from simulator.build.ownership import reap_orphans
from simulator.build.sandbox import disk_event
from simulator.build.timeline import Timeline
from simulator.config import python_releases, source
from simulator.config.python_version_warnings import runtime_txt_request
from simulator.diagnose.classifier import classify
from simulator.diagnose.diagnosis import Diagnosis, DiagnosisContext
from simulator.errors import EngineLostError
from simulator.index.client import PackageIndex
from simulator.plan import base_images
from simulator.plan.build_plan import memory_text
from simulator.plan.machine import SRC_DIR
from simulator.plan.models import VENV, BuildPlan, ServicePlan

TROUBLESHOOTING = (
    "==> Common ways to troubleshoot your deploy: https://render.com/docs/troubleshooting-deploys"
)
ERROR_LINE = re.compile(
    r"(error|Error|ERROR|failed|Failed|FAILED|Killed|Traceback|No such file|not found|denied|"
    r"exit code|exit status|╰─>|×)"
)


def _quiet(_: str) -> None:
    """The default progress callback: say nothing."""


@dataclass
class BuildResult:
    """How a simulated build ended (outcome is one of OUTCOMES)."""

    service: str
    outcome: str
    exit_code: int | None
    duration_s: float
    peak_memory_bytes: int | None
    log_path: Path
    image: str
    python: str  # the version Render would use
    image_python: str  # the version that ran here
    event: str  # Render's one-line event (`Ran out of memory (used over 8GB) ...`)
    last_error_lines: list[str] = field(default_factory=list)
    log_text: str = ""
    diagnosis: Diagnosis | None = None
    # when each phase ran, the memory the build used over time, and the HTML report's path
    timeline: Timeline = field(default_factory=Timeline)
    memory: MemoryTrace | None = None
    report_path: Path | None = None

    OUTCOMES = ("succeeded", "failed", "out-of-memory", "timeout", "no-output")

    @property
    def succeeded(self) -> bool:
        return self.outcome == "succeeded"

    def to_dict(self) -> dict[str, Any]:
        return {
            "service": self.service,
            "outcome": self.outcome,
            "exit_code": self.exit_code,
            "duration_s": round(self.duration_s, 2),
            "peak_memory_bytes": self.peak_memory_bytes,
            "log_path": str(self.log_path),
            "image": self.image,
            "python": {"render": self.python, "here": self.image_python},
            "event": self.event,
            "last_error_lines": self.last_error_lines,
            "diagnosis": self.diagnosis.to_dict() if self.diagnosis else None,
            "phases": self.timeline.to_dict(),
            "memory": self.memory.to_dict() if self.memory else None,
            "report": str(self.report_path) if self.report_path else None,
        }


def build_image(
    client: docker.DockerClient,
    plan: BuildPlan,
    service: ServicePlan,
    *,
    base_image: str | None = None,
    pull: bool = True,
    progress: Any = _quiet,
) -> tuple[str, base_images.BaseImage]:
    """The build image for `service`, resolved (pulled, bootstrapped, built) as needed."""
    base = images.resolve_base(
        client, service.python.version, base_image=base_image, pull=pull, progress=progress
    )
    ca = plan.ca_cert.read_bytes() if plan.ca_cert else b""
    spec = image_build.ImageSpec(
        render_python=service.python.version,
        base=base,
        poetry_version=service.poetry_version,
        uv_version=service.uv_version,
        ca_bundle=ca,
    )
    return image_build.ensure_image(client, spec, progress=progress), base


def simulate_service(
    client: docker.DockerClient,
    plan: BuildPlan,
    service: ServicePlan,
    *,
    image: str,
    base: base_images.BaseImage,
    echo: Echo,
    keep: bool = False,
    volume_options: Mapping[str, Mapping[str, str]] | None = None,
    timeline: Timeline | None = None,
) -> BuildResult:
    """Run `service`'s build command as Render would, and say how it ended.

    `volume_options` (local volume driver options per mount point, see `BuildContainer`) gives
    the build a different disk, e.g. a small one. `timeline` is the simulation's (the image
    phase already in it, see `pipeline.run_build`); the container's phases are added to it, and
    the build's memory is sampled from the container while it lives (`MemorySampler`).
    """
    log_path = log_path_for(plan.git.slug, service.name)
    started = time.monotonic()
    timeline = timeline or Timeline()
    memory: MemoryTrace | None = None
    with BuildLog(log_path, service.secrets(), echo) as log:
        reaped = sum(map(len, reap_orphans(client)))
        if reaped:
            log.note(
                f"removed {reaped} container(s)/volume(s) left by an earlier run whose "
                "render-sim process is gone"
            )
        short = sorted(
            k for k in service.secret_keys if 0 < len(service.env.get(k, "")) < MIN_SECRET_LENGTH
        )
        if short:
            log.note(
                f"not masked: the value of {', '.join(short)} is shorter than "
                f"{MIN_SECRET_LENGTH} characters (masking it would hide ordinary text)"
            )
        for difference in base.differences(service.python.version):
            log.note(f"differs from Render: {difference}")
        log.render(f"==> Cloning from {plan.repo}")
        log.note(f"copying {len(service.files)} file(s) Render's checkout would hold")
        if plan.git.commit:
            log.render(
                f"==> Checking out commit {plan.git.commit} in branch {plan.git.branch or 'HEAD'}"
            )
        labels = {"render-sim.service": service.name, "render-sim.repo": str(plan.repo)}
        cache = _prepare_cache(client, service, log)
        try:
            timeline.begin("container")
            with (
                BuildContainer(
                    client,
                    image,
                    limits=service.limits,
                    labels=labels,
                    keep=keep,
                    network=service.network,
                    cache_volume=cache,
                    volume_options=volume_options or {},
                ) as box,
                MemorySampler(
                    client, box.container.id, service.limits.memory_bytes, timeline.now
                ) as sampler,
            ):
                memory = sampler.trace
                timeline.begin("copy")
                box.copy_into(source.archive(plan.repo, service.files), SRC_DIR)
                lines = service.render_log_lines()
                for line in lines[:3]:
                    log.render(line)
                timeline.begin("venv")
                setup = _create_venv(box, service)
                if setup is not None:
                    timeline.end()
                    log.output(setup)
                    return _finish(
                        log, service, image, base, started, ExecResult(1, 0.0), timeline, memory
                    )
                for line in lines[3:]:
                    log.render(line)
                timeline.begin("build command")
                result = box.run(
                    service.build_command,
                    service.build_env(),
                    workdir=service.workdir,
                    on_output=_Watcher(log).output,
                )
                timeline.begin("container removal")
            timeline.end()
        except EngineLostError as error:
            log.note(f"the build stopped here: {error}")  # the saved log says how it ended
            raise
        if result.leftover_processes:
            shown = "; ".join(p[:80] for p in result.leftover_processes[:3])
            log.note(
                f"the build command exited and left {len(result.leftover_processes)} process(es) "
                f"running ({shown}): Render ends the build when its command exits, so they "
                "were stopped with the container"
            )
        return _finish(log, service, image, base, started, result, timeline, memory)


class _Watcher:
    """Passes build output to the log, adding a note where this run parts from Render's."""

    CRATES_IO_DOWN = "Could not resolve host: index.crates.io"

    def __init__(self, log: BuildLog) -> None:
        self._log = log
        self._crates_noted = False

    def output(self, line: str) -> None:
        self._log.output(line)
        if not self._crates_noted and self.CRATES_IO_DOWN in line:
            self._crates_noted = True
            self._log.note(
                "cargo cannot reach crates.io from this machine; on Render this Rust source build "
                "fails instead with `Read-only file system (os error 30)` under /usr/local/cargo"
            )


def _prepare_cache(client: docker.DockerClient, service: ServicePlan, log: BuildLog) -> str | None:
    """Render's build cache: pip's and uv's caches kept in a volume per service and Python."""
    if not service.cache_key:
        return None
    name = cache_volume_name(service.cache_key)
    _, existed = prepare_cache(client, name, service.cache_key, clear=service.clear_cache)
    if service.clear_cache:
        log.note("build cache cleared (--clear-cache), as Render's 'Clear build cache & deploy'")
    elif existed:
        log.render("==> Downloading cache...")
    return name


def diagnosis_context(plan: BuildPlan, service: ServicePlan) -> DiagnosisContext:
    """What the plan knows that a log alone does not: the Python and why, runtime.txt, ..."""
    root = plan.repo / service.root_dir if service.root_dir else plan.repo
    runtime_txt = root / "runtime.txt" if (root / "runtime.txt").is_file() else None
    releases = python_releases.load_releases()
    minors = sorted(
        {f"{v[0]}.{v[1]}" for v in releases.versions}, key=lambda m: tuple(map(int, m.split(".")))
    )
    return DiagnosisContext(
        python_version=service.python.version,
        python_source=service.python.source,
        runtime_txt_exists=runtime_txt is not None,
        runtime_txt=runtime_txt_request(runtime_txt, plan.repo) if runtime_txt else None,
        build_command=service.build_command,
        render_versions={m: v for m in minors if (v := releases.newest(m))},
        crates_io_unreachable=service.crates_io_reachable is False,
    )


def diagnose(
    plan: BuildPlan, service: ServicePlan, result: BuildResult, index: PackageIndex | None = None
) -> Diagnosis:
    """Classify a failed build's log; Render's event line (OOM, timeout) is part of the evidence."""
    text = result.log_text
    if result.event:
        text += "\n" + result.event
    with result.timeline.phase("diagnosis"):
        return classify(text, diagnosis_context(plan, service), index)


def _create_venv(box: BuildContainer, service: ServicePlan) -> str | None:
    """Render's venv, made with the chosen interpreter; the error text when that fails.

    The build image already holds it, made by this same command (images/render-layer.sh), and
    Docker copies it into the container's fresh /opt/render volume: that takes ~0.2 s where
    ensurepip takes ~2 s. It is made here only when the copy is missing (an image without it, or
    a volume driver that does not copy image content).
    """
    # python3.X, as Render's venv: tools then print `.venv/bin/python3.14` as in Render's logs
    minor = ".".join(service.python.version.split(".")[:2])
    python = f"/opt/render/project/python/Python-{service.python.version}/bin/python{minor}"
    script = '[ -f "$1/pyvenv.cfg" ] || exec "$2" -m venv "$1"'
    code, output = box.call(["sh", "-c", script, "sh", VENV, python], env={"HOME": "/opt/render"})
    return None if code == 0 else output.strip() or f"creating {VENV} failed (exit {code})"


def _finish(
    log: BuildLog,
    service: ServicePlan,
    image: str,
    base: base_images.BaseImage,
    started: float,
    result: ExecResult,
    timeline: Timeline,
    memory: MemoryTrace | None,
) -> BuildResult:
    limit_text = memory_text(service.limits.memory_bytes, sep="")
    if result.oom_killed:
        outcome = "out-of-memory"
        event = f"Ran out of memory (used over {limit_text}) while building your code."
    elif result.timed_out:
        outcome = "timeout"
        event = f"Build timed out after {_duration_text(service.limits.timeout_s)}."
    elif result.disk_exceeded:
        outcome = "failed"
        event = disk_event(service.limits.disk_bytes, result.disk_used_bytes)
    elif result.idle_out:
        outcome = "no-output"
        event = (
            f"Stopped: no output for {_duration_text(service.limits.idle_timeout_s)} "
            "(render-sim's watchdog; raise it with --idle-timeout)"
        )
    elif result.exit_code == 0:
        outcome = "succeeded"
        event = ""
    else:
        outcome = "failed"
        event = f"Exited with status {result.exit_code} while building your code."
    if memory is not None:  # the cgroup's own figures, read after the run, complete the samples
        memory.peak_bytes = result.peak_memory_bytes
        memory.oom_killed = result.oom_killed
    if outcome == "succeeded":
        log.render("==> Build successful 🎉")
    else:
        log.render("==> Build failed 😞")
        log.render(TROUBLESHOOTING)
        log.note(event)
    return BuildResult(
        service=service.name,
        outcome=outcome,
        exit_code=result.exit_code,
        duration_s=time.monotonic() - started,
        peak_memory_bytes=result.peak_memory_bytes,
        log_path=log.path,
        image=image,
        python=service.python.version,
        image_python=base.python,
        event=event,
        last_error_lines=[] if outcome == "succeeded" else last_error_lines(log.lines),
        log_text=log.text(),
        timeline=timeline,
        memory=memory,
    )


def _duration_text(seconds: float) -> str:
    """A limit as people say it: "120 minutes", "90 seconds"."""
    if seconds >= 60 and seconds % 60 == 0:
        return f"{seconds / 60:g} minute" + ("s" if seconds != 60 else "")
    return f"{seconds:g} seconds"


def last_error_lines(lines: list[str], limit: int = 12) -> list[str]:
    """The last lines that look like errors (with the very last lines when none do)."""
    hits = [line for line in lines if ERROR_LINE.search(line)]
    chosen = hits[-limit:] if hits else lines[-limit:]
    return [line[:300] for line in chosen]
