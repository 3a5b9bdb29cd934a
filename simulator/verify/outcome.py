"""How `--verify-fix` ended: each fix tried (an `Attempt`), and the `Verification` as a whole."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from simulator.build.simulation import BuildResult
from simulator.diagnose.diagnosis import Diagnosis, Fix
from simulator.verify.changes import Change

#: Verification statuses; only VERIFIED (and NOT_NEEDED: nothing failed) end with exit code 0.
VERIFIED = "verified"
STILL_FAILS = "still-fails"
NO_ACTION = "no-action"
NOT_APPLIED = "not-applied"
NOT_RUN = "not-run"
NOT_NEEDED = "not-needed"

#: What became of one fix.
PASSED = "passed"
SKIPPED = "skipped"  # this machine cannot run it (no image for that Python, ...)
REFUSED = "not-applied"  # the action does not apply to this repo
FAILED = "failed"


@dataclass
class Attempt:
    """One fix tried: where it came from, its change, how many builds, and how it ended."""

    number: int  # 1-based, in the order tried
    fix: Fix
    origin: str  # "plan" (checked by the resolver) or "diagnosis"
    status: str = FAILED
    change: Change | None = None
    rounds: int = 0  # rebuilds run for it
    reason: str = ""
    result: BuildResult | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "origin": self.origin,
            "fix": self.fix.to_dict(),
            "status": self.status,
            "change": self.change.summary if self.change else None,
            "rounds": self.rounds,
            "reason": self.reason or None,
            "outcome": self.result.outcome if self.result else None,
        }


@dataclass
class Verification:
    """How `--verify-fix` ended for one service."""

    service: str
    status: str  # one of the statuses above
    original: BuildResult
    fix: Fix | None = None
    fix_number: int | None = None  # 1-based, in the order the fixes were tried
    change: Change | None = None
    result: BuildResult | None = None  # the last rebuild's
    reason: str = ""  # why it was not applied or not run
    hint: str | None = None
    plan_warnings: list[str] = field(default_factory=list)  # the rebuild's plan
    attempts: list[Attempt] = field(default_factory=list)

    @property
    def verified(self) -> bool:
        return self.status == VERIFIED

    @property
    def passed(self) -> bool:
        """Whether `simulate --verify-fix` exits 0: verified, or nothing had failed."""
        return self.status in (VERIFIED, NOT_NEEDED)

    @property
    def message(self) -> str:
        """One line: "verified: the build passes with ..." or "not verified: ..."."""
        if self.status == VERIFIED:
            assert self.change is not None
            return f"verified: the build passes with {self.change.summary}"
        if self.status == STILL_FAILS:
            return f"not verified: still fails: {failure_headline(self.result)}"
        if self.status == NO_ACTION:
            return (
                "not verified: no fix of the diagnosis can be applied automatically "
                "(none has an action)"
            )
        if self.status == NOT_APPLIED:
            return f"not verified: the fix could not be applied: {self.reason}"
        if self.status == NOT_RUN:
            return f"not verified: the rebuild could not run: {self.reason}"
        return "nothing to verify: the build succeeded as it is"

    def to_dict(self) -> dict[str, Any]:
        return {
            "service": self.service,
            "status": self.status,
            "verified": self.verified,
            "message": self.message,
            "original": {
                "outcome": self.original.outcome,
                "class": self.original.diagnosis.failure_class if self.original.diagnosis else None,
                "headline": failure_headline(self.original)
                if not self.original.succeeded
                else None,
            },
            "fix": self.fix.to_dict() if self.fix else None,
            "fix_number": self.fix_number,
            "change": self.change.to_dict() if self.change else None,
            "result": self.result.to_dict() if self.result else None,
            "reason": self.reason or None,
            "hint": self.hint,
            "plan_warnings": self.plan_warnings,
            "attempts": [attempt.to_dict() for attempt in self.attempts],
        }


def failure_headline(result: BuildResult | None) -> str:
    if result is None:
        return "no result"
    if result.diagnosis is not None:
        return result.diagnosis.headline
    return result.event or result.outcome


def first_actionable_fix(diagnosis: Diagnosis | None) -> tuple[int, Fix] | None:
    """The first fix (1-based number, fix) that carries a machine-applicable action."""
    if diagnosis is None:
        return None
    for number, fix in enumerate(diagnosis.fixes, 1):
        if fix.action is not None:
            return number, fix
    return None
