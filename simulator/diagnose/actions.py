"""Fix actions the planner and the lint add to the diagnosis's (`diagnose.diagnosis`), and
`describe`, the one line that says what any action changes.

Like `SetEnv` or `Pin`, each is plain data that `simulate --verify-fix` can apply to a copy of
the repo:

- `SetRootDir`: set the service's `rootDir` in render.yaml (Render runs the build there);
- `Replace`: swap one requirement for another where it is declared (psycopg2 -> psycopg2-binary);
- `Several`: steps that only work together (two upgrades, a Python and a pin), applied in order.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from simulator.diagnose.diagnosis import (
    BuildCommand,
    FixAction,
    Pin,
    PythonVersionFile,
    Requirement,
    SetEnv,
)


@dataclass(frozen=True)
class SetRootDir(FixAction):
    """Set the service's Root Directory (`rootDir` in render.yaml) to `value`."""

    kind: ClassVar[str] = "root-dir"
    value: str

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "value": self.value}


@dataclass(frozen=True)
class Replace(FixAction):
    """Replace the requirement on `package` by `requirement` (a whole PEP 508 line)."""

    kind: ClassVar[str] = "replace"
    package: str
    requirement: str

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "package": self.package, "requirement": self.requirement}


@dataclass(frozen=True)
class Several(FixAction):
    """Steps applied together, in order (each one alone does not make the build pass)."""

    kind: ClassVar[str] = "several"
    steps: tuple[FixAction, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "steps": [step.to_dict() for step in self.steps]}


def flatten(action: FixAction) -> list[FixAction]:
    """The single steps of an action (a `Several` unpacked, a `Pin` with `also` split)."""
    if isinstance(action, Several):
        return [step for inner in action.steps for step in flatten(inner)]
    if isinstance(action, Pin) and action.also:
        return [
            Pin(action.package, action.specifier),
            *(Pin(r.package, r.specifier) for r in action.also),
        ]
    return [action]


def pins(requirements: list[Requirement]) -> FixAction:
    """One Pin for several requirements (the first, with the others in `also`)."""
    first, *rest = requirements
    return Pin(first.package, first.specifier, tuple(rest))


ACTION_KINDS = (SetRootDir.kind, Replace.kind, Several.kind)


def describe(action: FixAction) -> str:
    """One line saying what an action changes ("set rootDir: backend in render.yaml")."""
    if isinstance(action, SetRootDir):
        return f"set rootDir: {action.value} (the service's Root Directory)"
    if isinstance(action, Replace):
        return f"replace {action.package} with {action.requirement}"
    if isinstance(action, Several):
        return "; ".join(describe(step) for step in action.steps)
    if isinstance(action, SetEnv):
        return f"set {action.key}={action.value} on the service"
    if isinstance(action, PythonVersionFile):
        return f"write .python-version containing {action.value}"
    if isinstance(action, Pin):
        pins = [f"{action.package}{action.specifier}"]
        pins += [f"{req.package}{req.specifier}" for req in action.also]
        return "pin " + " and ".join(pins)
    if isinstance(action, BuildCommand):
        return f"build command: {action.value}"
    return str(action.to_dict())
