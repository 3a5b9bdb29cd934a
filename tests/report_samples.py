"""A simulation's data as the HTML report receives it, made by hand (no Docker): the plan of a
small repo, an out-of-memory build with its samples, phases, log and diagnosis.

The unit tests (tests/unit/test_report_html.py, test_report_charts.py) and the browser test
(tests/browser) render reports from it.
"""

from __future__ import annotations

from pathlib import Path

from simulator.build.memory import MemorySample, MemoryTrace
from simulator.build.simulation import BuildResult
from simulator.build.timeline import Phase, Timeline
from simulator.diagnose.diagnosis import Diagnosis, Evidence, Fix, SetEnv
from simulator.plan.build_plan import make_plan
from simulator.plan.models import BuildPlan, Options

MIB = 1024**2
LIMIT = 256 * MIB
SECRET = "hunter2-Secret-value"
HOSTILE_LINE = "table 3: <script>alert('owned')</script> & <img src=x onerror=alert(1)>"
OOM_EVENT = "Ran out of memory (used over 256MB) while building your code."
# The build command starts at 2 s; the engine reports the kill at 6 s.
KILL_S = 6.0
PHASES = (
    Phase("image", 0.0, 0.5),
    Phase("container", 0.5, 1.5),
    Phase("copy", 1.5, 1.7),
    Phase("venv", 1.7, 2.0),
    Phase("build command", 2.0, 6.2),
    Phase("container removal", 6.2, 6.8),
    Phase("diagnosis", 6.8, 7.0),
)


def sample_plan(root: Path, build_command: str = "python build_tables.py") -> BuildPlan:
    """The plan of a small repo built with `build_command`, a secret in its env file."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "main.py").write_text("print('hello')\n", encoding="utf-8")
    (root / "requirements.txt").write_text("", encoding="utf-8")
    env_file = root.parent / f"{root.name}.env"
    env_file.write_text(f"API_TOKEN={SECRET}\n", encoding="utf-8")
    options = Options(
        build_command=build_command,
        python="3.13.4",
        memory_bytes=LIMIT,
        env_file=env_file,
        probe_network=False,
    )
    return make_plan(root, options)


def sample_trace(kills: tuple[float, ...] = (KILL_S,)) -> MemoryTrace:
    """Samples climbing 48 MiB a second from 2 s, killed at `kills` (none: not killed)."""
    samples = [MemorySample(2.0 + n, (16 + 48 * n) * MIB, (16 + 48 * n) * MIB) for n in range(5)]
    return MemoryTrace(
        limit_bytes=LIMIT,
        samples=samples,
        oom_kills_s=list(kills),
        start_s=1.5,
        end_s=6.2,
        peak_bytes=LIMIT if kills else samples[-1].used_bytes,
        oom_killed=bool(kills),
    )


def sample_log() -> list[str]:
    return [
        "==> Using Python version 3.13.4 via environment variable PYTHON_VERSION",
        "==> Running build command 'python build_tables.py'...",
        "table 1: 16 MiB",
        "table 2: 64 MiB",
        HOSTILE_LINE,
        f"token is {'••••••'}",
        "==> Build failed 😞",
        f"[render-sim] {OOM_EVENT}",
    ]


def sample_diagnosis() -> Diagnosis:
    """Evidence on log lines 5 and 9 (9: Render's event line, after the log)."""
    return Diagnosis(
        failure_class="out-of-memory",
        root_cause="The build ran out of memory and was killed",
        headline="The build ran out of memory <and> was killed during the build command",
        explanation="The kernel's OOM killer stopped the process.",
        evidence=(Evidence(5, HOSTILE_LINE), Evidence(9, OOM_EVENT)),
        fixes=(
            Fix(
                "Limit parallel compiles",
                "Set CMAKE_BUILD_PARALLEL_LEVEL=1.",
                SetEnv("CMAKE_BUILD_PARALLEL_LEVEL", "1"),
            ),
        ),
    )


def sample_result(log_path: Path, trace: MemoryTrace | None = None) -> BuildResult:
    """An out-of-memory build of `sample_plan`'s service, its log saved at `log_path`."""
    lines = sample_log()
    log_path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    timeline = Timeline()
    timeline.phases = list(PHASES)
    return BuildResult(
        service="app",
        outcome="out-of-memory",
        exit_code=137,
        duration_s=6.8,
        peak_memory_bytes=LIMIT,
        log_path=log_path,
        image="render-sim/build:3.13.4-test",
        python="3.13.4",
        image_python="3.13.4",
        event=OOM_EVENT,
        last_error_lines=[OOM_EVENT],
        log_text="\n".join(lines),
        diagnosis=sample_diagnosis(),
        timeline=timeline,
        memory=trace if trace is not None else sample_trace(),
    )
