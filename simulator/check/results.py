"""What `render-sim check` finds: the source builds, problems and per-service results.

Plain data: `CheckReport` holds one `ServiceCheck` per service, each listing the `SourceBuild`s
(packages Render's pip would compile, why, and how to avoid it) and the `Problem`s (installs that
fail whatever is built). `simulator.report.check_view` shows them; `to_dict` gives the JSON form.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from simulator.config.dep_files import DirectReference, Problem
from simulator.diagnose.diagnosis import Fix

if TYPE_CHECKING:
    from simulator.plan.lint import Lint
from simulator.errors import InputError

#: Why a release would be built from source (`SourceBuild.reason`).
REASONS: dict[str, str] = {
    "sdist-only": "the release publishes only a source distribution",
    "older-pythons": "its Linux wheels stop at an older Python",
    "musllinux-only": "its Linux wheels for this Python are musllinux (Alpine) only",
    "glibc-too-new": "its Linux wheels need a newer glibc than Debian 12's 2.36",
    "other-platforms": "it has no Linux x86_64 wheel (only other platforms)",
    "no-wheel-for-python": "no wheel for this Python",
    "no-binary": "the requirements ask pip not to use wheels for it (--no-binary)",
    "direct-reference": "it is installed from a VCS or archive URL, which pip always builds",
}


@dataclass(frozen=True)
class SourceBuild:
    """One package Render's pip would build from source, why, and how to avoid it."""

    name: str
    version: str | None
    reason: str  # a key of REASONS
    why: str  # one sentence naming the Python, the tags, the files
    required_by: tuple[str, ...] = ()  # "pydantic 2.9.2", or "requirements.txt" when direct
    direct: bool = False  # asked for by the requirements themselves
    wheel_pythons: tuple[str, ...] = ()  # minors with Linux x86_64 glibc wheels, newest first
    dependencies_known: bool = True  # False: its own dependencies could not be read
    fixes: tuple[Fix, ...] = ()
    #: what its sdist holds (simulator.index.sdist): "compiled" (C, Cython, Rust, ...: needs a
    #: toolchain), "pure" (Python only: built in seconds, harmless) or "unknown"
    compiled: str = "unknown"
    evidence: str = ""  # what decided `compiled` ("src/_speedups.c")
    parents: tuple[str, ...] = ()  # the releases that require it ("pydantic==2.9.2")

    @property
    def harmless(self) -> bool:
        """A pure-Python source build: pip builds it in seconds with no compiler."""
        return self.compiled == "pure"

    def __str__(self) -> str:
        return f"{self.name} {self.version}" if self.version else self.name

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "version": self.version,
            "reason": self.reason,
            "why": self.why,
            "required_by": list(self.required_by),
            "direct": self.direct,
            "wheel_pythons": list(self.wheel_pythons),
            "dependencies_known": self.dependencies_known,
            "sdist": {"contents": self.compiled, "evidence": self.evidence or None},
            "fixes": [fix.to_dict() for fix in self.fixes],
        }


def direct_reference(reference: DirectReference) -> SourceBuild:
    """The source build of a requirement pip builds on every deploy (a VCS, archive or local
    source URL, found while reading the service's files)."""
    return SourceBuild(
        name=reference.name,
        version=None,
        reason="direct-reference",
        why=reference.why,
        required_by=(reference.where,),
        direct=True,
        dependencies_known=False,
    )


@dataclass(frozen=True)
class ServiceCheck:
    """The check of one service: what was read, what was resolved, what would be compiled."""

    name: str
    root_dir: str
    build_command: str
    python: str  # full version, e.g. "3.14.3"
    python_source: str  # "PYTHON_VERSION", ".python-version" or "default"
    method: str  # "pip" (resolved), "uv.lock", "poetry.lock", or "pip+uv.lock", ...
    inputs: tuple[str, ...]  # the files read, relative to the repo
    packages: int  # how many distributions the install would have
    source_builds: tuple[SourceBuild, ...]
    problems: tuple[Problem, ...] = ()
    notes: tuple[str, ...] = ()  # limits of this check and options not honoured
    warnings: tuple[str, ...] = ()  # the plan's warnings (runtime.txt ignored, ...)
    seconds: float = 0.0
    lints: tuple[Lint, ...] = ()  # the build-command lint (simulator.plan.lint)
    fixes: tuple[Fix, ...] = ()  # whole-service fixes, each checked by the resolver

    @property
    def compiled_builds(self) -> tuple[SourceBuild, ...]:
        """The source builds that need a compiler (or may: their sdist was not readable)."""
        return tuple(b for b in self.source_builds if not b.harmless)

    @property
    def harmless_builds(self) -> tuple[SourceBuild, ...]:
        """Pure-Python sdists: built from source in seconds, nothing to compile."""
        return tuple(b for b in self.source_builds if b.harmless)

    @property
    def ok(self) -> bool:
        """Nothing to compile, nothing that fails, no lint error: Render builds it as is."""
        return (
            not self.compiled_builds
            and not self.problems
            and not any(item.severity == "error" for item in self.lints)
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "root_dir": self.root_dir,
            "build_command": self.build_command,
            "python": {"version": self.python, "source": self.python_source},
            "method": self.method,
            "inputs": list(self.inputs),
            "packages": self.packages,
            "ok": self.ok,
            "source_builds": [item.to_dict() for item in self.source_builds],
            "problems": [item.to_dict() for item in self.problems],
            "notes": list(self.notes),
            "warnings": list(self.warnings),
            "lint": [item.to_dict() for item in self.lints],
            "fixes": [fix.to_dict() for fix in self.fixes],
            "seconds": round(self.seconds, 2),
        }


@dataclass(frozen=True)
class CheckReport:
    repo: Path
    index_url: str
    services: tuple[ServiceCheck, ...]
    warnings: tuple[str, ...] = ()
    seconds: float = 0.0

    @property
    def exit_code(self) -> int:
        """0 when no service builds anything from source and none fails; else 1."""
        return 0 if all(service.ok for service in self.services) else 1

    def to_dict(self) -> dict[str, Any]:
        return {
            "repo": str(self.repo),
            "index_url": self.index_url,
            "ok": self.exit_code == 0,
            "exit_code": self.exit_code,
            "services": [service.to_dict() for service in self.services],
            "warnings": list(self.warnings),
            "seconds": round(self.seconds, 2),
        }


class IndexUnavailableError(InputError):
    """The package index could not be read, so nothing could be checked."""
