"""Typed errors: each kind of failure has its own exit code, so a script can tell them apart.

The table in README.md ("Exit codes") is checked against `EXIT_CODES` by a test.
A build that runs and fails is not an error here: it is a result (exit 1), see `build.simulation.BuildResult`.
Anything else that stops render-sim is a bug in render-sim: it exits with CRASHED after saving
the traceback (`simulator.cli.app`).
"""

from __future__ import annotations

from dataclasses import dataclass

BUILD_FAILED = 1
INTERRUPTED = 130
CRASHED = 70  # EX_SOFTWARE (sysexits.h): an internal software error
OUTPUT_CLOSED = 141  # 128 + SIGPIPE, as a shell reports a writer whose reader went away


class RenderSimError(Exception):
    """Base of every error render-sim reports to the user: a message and the fix."""

    return_code: int = CRASHED  # a defect of render-sim itself (or of its data files)

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message


class UsageError(RenderSimError):
    """A command-line option or argument is wrong."""

    return_code = 2


@dataclass(frozen=True)
class Location:
    """Where in a file a problem is: the file, a 1-based line (0 when unknown) and the field."""

    file: str
    line: int = 0
    field: str = ""

    def __str__(self) -> str:
        where = self.file if not self.line else f"{self.file}:{self.line}"
        return f"{where}: {self.field}" if self.field else where


class ConfigurationError(RenderSimError):
    """The blueprint, .python-version, an env file or a scenario manifest is wrong."""

    return_code = 2

    def __init__(self, message: str, hint: str | None = None, where: Location | None = None):
        super().__init__(message, hint)
        self.where = where

    def __str__(self) -> str:
        return f"{self.where}: {self.message}" if self.where else self.message


class HomeError(ConfigurationError):
    """render-sim's home directory (RENDER_SIM_HOME, or ~/.cache/render-sim) cannot be used."""


class ScenarioError(ConfigurationError):
    """A regression scenario's manifest (scenario.yaml) or the choice of scenarios is wrong."""


class NothingToBuildError(RenderSimError):
    """No Python service to build (only other runtimes, or an empty blueprint)."""

    return_code = 3


class DockerUnavailableError(RenderSimError):
    """No Docker engine answers, or it is too old."""

    return_code = 4


class ImageUnavailableError(RenderSimError):
    """The build image cannot be found, pulled or bootstrapped for this Python version."""

    return_code = 5


class InputError(RenderSimError):
    """A log or requirements file given to `explain`/`check` cannot be read as text."""

    return_code = 6


class BusyError(RenderSimError):
    """What the command needs is held by another build right now (retry when that one ends)."""

    return_code = 7


# name -> (code, meaning); README.md's exit-code table must match this exactly.
EXIT_CODES: dict[int, str] = {
    0: "the build succeeded (or the command did what it was asked)",
    BUILD_FAILED: "the build ran and failed (including out-of-memory and timeout); for check: packages would be compiled from source, an install would fail, or the build command cannot work on Render; for simulate --verify-fix: no fix made the build pass; for scenarios run: a scenario missed its expectations or could not run; for plan --strict: the repo's configuration has a warning",
    UsageError.return_code: "bad blueprint, configuration (an env file, render-sim's home, a settings file, a `RENDER_SIM_*` variable), scenario manifest or command-line usage",
    NothingToBuildError.return_code: "nothing to build: no Python service in the blueprint",
    DockerUnavailableError.return_code: "Docker engine unavailable, or it (or the build container in it) went away mid-build",
    ImageUnavailableError.return_code: "build image not available for that Python version (`plan` says so among the differences, with this code)",
    InputError.return_code: "input to explain/check cannot be read (empty, binary, too large), or the package index cannot be reached",
    BusyError.return_code: "busy: another build holds what the command needs (`--clear-cache` while another simulation of the service uses its build cache); retry when it ends",
    CRASHED: "render-sim crashed (a bug in render-sim): one line says so and names the file holding the traceback (under render-sim's home, else a temporary directory)",
    INTERRUPTED: "interrupted (Ctrl-C); the container was removed",
    OUTPUT_CLOSED: "the output's reader went away (piped into `head`, say); a build that was running was stopped and removed",
}


class EngineLostError(DockerUnavailableError):
    """The Docker engine (or the build container in it) went away while a build ran."""


class SandboxUnavailableError(DockerUnavailableError):
    """The engine could not give the build container its sandbox (the host's services blocked)."""
