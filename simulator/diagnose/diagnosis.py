"""The result of reading a failed build log: plain frozen data, ready for JSON.

A `Diagnosis` says which failure class a log shows, the distribution that really failed, the
Python version the build used (and where in the log that came from), the lines that prove it, and
an ordered list of fixes. Fix actions are data that a later step can apply to a copy of the repo
(`--verify-fix`); `checked` says whether a fix was verified against real package metadata.

`DiagnosisContext` carries what the caller knows that a log may not show: the Python version from
the build plan, whether the repo has a `runtime.txt`, the service's build command, and the newest
patch release Render offers for each minor version.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

#: The failure classes: those of the corpus README's table, then render-sim's own finer ones
#: (causes outside that table), then the runtime's (after a successful build), plus `unknown`.
FAILURE_CLASSES: tuple[str, ...] = (
    "rust-readonly-cargo",
    "no-wheel-python-too-new",
    "rust-toolchain-missing",
    "missing-system-library",
    "distutils-removed",
    "resolver-conflict",
    "no-matching-distribution",
    "out-of-memory",
    "build-timeout",
    "lockfile-mismatch",
    "externally-managed-environment",
    "requirements-file-missing",
    "readonly-system-site-packages",
    "disk-full",
    "tls-interception",
    "build-script-not-executable",
    "command-not-found",
    "runtime-crash",
    "runtime-out-of-memory",
)
#: The classes of a failure after a successful build (rules with `phase: runtime`).
RUNTIME_CLASSES: tuple[str, ...] = ("runtime-crash", "runtime-out-of-memory")
UNKNOWN = "unknown"

#: Where a Python version was read from (the `source` of `PythonInfo`).
PYTHON_SOURCES: tuple[str, ...] = (
    "render-log",  # ==> Using Python version 3.14.3 (default)
    "context",  # the caller's build plan
    "maturin-interpreter",  # maturin ... --interpreter /opt/render/project/src/.venv/bin/python3.14
    "pyo3-message",  # the configured Python interpreter version (3.13) is newer than PyO3's ...
    "interpreter-report",  # maturin's "Found CPython 3.13 at", "SOABI: cpython-313", uv/pipx
    "cargo-cfg",  # cargo:rustc-cfg=Py_3_13
    "wheel-tag",  # a cp313 tag in a downloaded wheel's name
    "path",  # /python3.12/ or cpython-312 in a path
)


@dataclass(frozen=True)
class PackageRef:
    """A distribution as the log writes it (`name`), with its version when the log shows one."""

    name: str
    version: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "version": self.version}

    def __str__(self) -> str:
        return f"{self.name} {self.version}" if self.version else self.name


@dataclass(frozen=True)
class PythonInfo:
    """The interpreter version a build used and where that was learned.

    `version` is as exact as the source allows ("3.14.3" or "3.13"). `source` is one of
    `PYTHON_SOURCES`; `line` is the 1-based log line it came from (None for the context);
    `selected_by` says how Render chose it when known: "default", "PYTHON_VERSION" or
    ".python-version".
    """

    version: str
    source: str
    line: int | None = None
    selected_by: str | None = None

    @property
    def minor(self) -> tuple[int, int] | None:
        """(3, 14) for "3.14.3"; None when the version does not parse."""
        parts = self.version.split(".")
        try:
            return int(parts[0]), int(parts[1])
        except (IndexError, ValueError):
            return None

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "source": self.source,
            "line": self.line,
            "selected_by": self.selected_by,
        }


@dataclass(frozen=True)
class Evidence:
    """One log line that supports the diagnosis: its 1-based number and its (cleaned) text."""

    line: int
    text: str

    def to_dict(self) -> dict[str, Any]:
        return {"line": self.line, "text": self.text}


@dataclass(frozen=True)
class FixAction:
    """Machine-applicable change behind a fix. Subclasses set `kind` and their own fields."""

    kind: ClassVar[str] = ""

    def to_dict(self) -> dict[str, Any]:
        raise NotImplementedError


@dataclass(frozen=True)
class SetEnv(FixAction):
    """Set an environment variable on the Render service (e.g. PYTHON_VERSION=3.13.4)."""

    kind: ClassVar[str] = "set-env"
    key: str
    value: str

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "key": self.key, "value": self.value}


@dataclass(frozen=True)
class PythonVersionFile(FixAction):
    """Commit a `.python-version` file; Render accepts "3.13" and picks the newest 3.13.x."""

    kind: ClassVar[str] = "python-version-file"
    value: str

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "value": self.value}


@dataclass(frozen=True)
class Requirement:
    """One package and the version specifier it should be pinned to."""

    package: str
    specifier: str

    def to_dict(self) -> dict[str, Any]:
        return {"package": self.package, "specifier": self.specifier}


@dataclass(frozen=True)
class Pin(FixAction):
    """Change a requirement to `package` + `specifier` (e.g. pydantic ">=2.12.0").

    `also` lists pins that must change together with it, for example a direct pin of the child
    distribution that the new parent release would otherwise conflict with.
    """

    kind: ClassVar[str] = "pin"
    package: str
    specifier: str
    also: tuple[Requirement, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "kind": self.kind,
            "package": self.package,
            "specifier": self.specifier,
        }
        if self.also:
            data["also"] = [req.to_dict() for req in self.also]
        return data


@dataclass(frozen=True)
class BuildCommand(FixAction):
    """Replace the service's build command with `value`."""

    kind: ClassVar[str] = "build-command"
    value: str

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "value": self.value}


@dataclass(frozen=True)
class Fix:
    """One way out, in order of preference: a title, the reasoning, and an optional action."""

    title: str
    detail: str
    action: FixAction | None = None
    checked: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "detail": self.detail,
            "action": self.action.to_dict() if self.action else None,
            "checked": self.checked,
        }


@dataclass(frozen=True)
class Diagnosis:
    """What failed, which package, why, and the exact fix. `to_dict()` is the JSON form."""

    failure_class: str
    root_cause: str
    headline: str
    explanation: str
    package: PackageRef | None = None
    python: PythonInfo | None = None
    evidence: tuple[Evidence, ...] = ()
    fixes: tuple[Fix, ...] = ()
    warnings: tuple[str, ...] = ()
    phase: str = "build"  # where it failed: "build", "runtime" (after a successful build), "none"
    step: str = ""  # the failing step in words ("the build of X 1.0 (preparing its metadata)")

    @property
    def is_known(self) -> bool:
        """True when a rule matched (the class is not `unknown`)."""
        return self.failure_class != UNKNOWN

    def to_dict(self) -> dict[str, Any]:
        return {
            "class": self.failure_class,
            "root_cause": self.root_cause,
            "package": self.package.to_dict() if self.package else None,
            "python": self.python.to_dict() if self.python else None,
            "evidence": [item.to_dict() for item in self.evidence],
            "headline": self.headline,
            "explanation": self.explanation,
            "fixes": [fix.to_dict() for fix in self.fixes],
            "warnings": list(self.warnings),
            "phase": self.phase,
            "step": self.step,
        }


@dataclass(frozen=True)
class DiagnosisContext:
    """What the caller knows beyond the log; every field is optional.

    - `python_version` / `python_source`: the version the build plan chose and how
      ("PYTHON_VERSION", ".python-version" or "default").
    - `runtime_txt_exists` / `runtime_txt`: whether the repo has a `runtime.txt` (which Render
      ignores) and its content.
    - `build_command`: the service's build command, so fixes can rewrite it.
    - `render_versions`: newest patch Render offers per minor, e.g. {"3.13": "3.13.4"}; fixes
      name an exact PYTHON_VERSION only when this mapping has the minor.
    - `crates_io_unreachable`: the build ran where crates.io cannot be reached (a simulation on
      a closed network), so cargo failed on the network before it reached what Render's build
      fails on (rules name such fields in a signal's `when_context`).
    """

    python_version: str | None = None
    python_source: str | None = None
    runtime_txt_exists: bool = False
    runtime_txt: str | None = None
    build_command: str | None = None
    render_versions: Mapping[str, str] = field(default_factory=dict)
    crates_io_unreachable: bool = False
