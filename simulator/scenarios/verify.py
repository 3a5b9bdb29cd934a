"""A scenario's `expect.verify`: what `--verify-fix` must do for its failed build.

```yaml
expect:
  outcome: failed
  verify:
    status: verified            # verified | still-fails | not-run | not-applied | no-action
    change: ["rootDir: backend"]  # substrings of the whole change (summary, instructions, diff)
    skipped: ["3.12"]           # substrings of a fix that was skipped (title or why)
```

A scenario with `verify` runs the fixes on copies of its repo, as `simulate --verify-fix` does,
and each miss is one line, like the other expectations.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from simulator.verify.outcome import (
    NO_ACTION,
    NOT_APPLIED,
    NOT_RUN,
    SKIPPED,
    STILL_FAILS,
    VERIFIED,
    Verification,
)

if TYPE_CHECKING:
    from yaml.nodes import Node

STATUSES = (VERIFIED, STILL_FAILS, NOT_RUN, NOT_APPLIED, NO_ACTION)
KEYS = ("status", "change", "skipped")


@dataclass(frozen=True)
class VerifyExpectation:
    status: str
    change: tuple[str, ...] = ()
    skipped: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"status": self.status, "change": list(self.change), "skipped": list(self.skipped)}


def read_verify(reader: Any, node: Node) -> VerifyExpectation:
    """`expect.verify`, read with the manifest's reader (errors name file, line and field)."""
    entries = reader.mapping(node, "expect.verify", KEYS)
    if "status" not in entries:
        raise reader.fail(
            "no `status`",
            node,
            "expect.verify",
            hint=f"add `status:` ({' | '.join(STATUSES)})",
        )
    status = reader.choice(entries["status"][1], "expect.verify.status", STATUSES)
    values: dict[str, Any] = {"status": status}
    for key in ("change", "skipped"):
        if key in entries:
            values[key] = reader.strings(entries[key][1], f"expect.verify.{key}")
    return VerifyExpectation(**values)


def compare_verify(expect: VerifyExpectation, got: Verification | None) -> list[str]:
    """Every way the verification misses `expect`, one line each."""
    if got is None:
        return [f"verify: expected {expect.status}, but --verify-fix did not run"]
    out = []
    if got.status != expect.status:
        out.append(f"verify: expected {expect.status}, got {got.status}: {got.message}")
    change = got.change
    text = "\n".join((change.summary, change.instructions, change.diff())) if change else ""
    for wanted in expect.change:
        if wanted not in text:
            out.append(f"verify.change: {wanted!r} is not in the change ({_short(change)})")
    skipped = [a for a in got.attempts if a.status == SKIPPED]
    for wanted in expect.skipped:
        if not any(wanted in f"{a.fix.title} {a.reason}" for a in skipped):
            out.append(
                f"verify.skipped: no skipped fix mentions {wanted!r} "
                f"(skipped: {_titles(skipped) or 'none'})"
            )
    return out


def _short(change: Any) -> str:
    return change.summary if change is not None else "no change"


def _titles(attempts: Sequence[Any]) -> str:
    return "; ".join(a.fix.title for a in attempts)
