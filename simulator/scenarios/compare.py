"""How a scenario's build and its verification are compared with what its manifest expects.

`compare` gives every way a build misses `expect` (outcome, class, package, exit code, log lines,
warnings, the top fix), one readable line each; `compare_verify` does the same for
`expect.verify` (simulator.scenarios.verify).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from packaging.utils import canonicalize_name

from simulator.build.simulation import BuildResult
from simulator.scenarios.manifest import Expectation
from simulator.scenarios.verify import compare_verify

__all__ = ["compare", "compare_verify"]


def compare(expect: Expectation, result: BuildResult, plan_warnings: Sequence[str]) -> list[str]:
    """Every way `result` misses `expect`, one readable line each (empty: it met them all)."""
    out: list[str] = []
    diagnosis = result.diagnosis
    if result.outcome != expect.outcome:
        out.append(f"outcome: expected {expect.outcome}, got {result.outcome}")
    if expect.failure_class is not None:
        got = diagnosis.failure_class if diagnosis else "no diagnosis"
        if got != expect.failure_class:
            out.append(f"class: expected {expect.failure_class}, got {got}")
    if expect.package is not None:
        package = diagnosis.package if diagnosis else None
        if package is None or canonicalize_name(package.name) != canonicalize_name(expect.package):
            out.append(
                f"package: expected {expect.package}, got {package.name if package else 'none'}"
            )
    if expect.exit_code is not None and result.exit_code != expect.exit_code:
        out.append(f"exit_code: expected {expect.exit_code}, got {result.exit_code}")
    for text in expect.log:
        if text not in result.log_text:
            out.append(f"log: {text!r} is not in the build log")
    for text in expect.not_log:
        line = next((line for line in result.log_text.splitlines() if text in line), None)
        if line is not None:
            out.append(f"not_log: {text!r} is in the build log: {line.strip()[:200]!r}")
    warnings = [*plan_warnings, *(diagnosis.warnings if diagnosis else ())]
    for text in expect.warnings:
        if not any(text in warning for warning in warnings):
            shown = "; ".join(w[:80] for w in warnings[:3]) or "none"
            out.append(f"warnings: no warning contains {text!r} (warnings: {shown})")
    if expect.fix is not None:
        out += _compare_fix(expect.fix, result)
    return out


def _compare_fix(expected: Any, result: BuildResult) -> list[str]:
    diagnosis = result.diagnosis
    fixes = diagnosis.fixes if diagnosis else ()
    action = next((fix.action for fix in fixes if fix.action is not None), None)
    wanted = ", ".join(f"{k}={v}" for k, v in expected.items())
    if action is None:
        return [f"fix: expected {wanted}, got no fix with an action"]
    got = action.to_dict()
    if all(str(got.get(key)) == str(value) for key, value in expected.items()):
        return []
    shown = ", ".join(f"{k}={v}" for k, v in got.items() if not isinstance(v, (list, dict)))
    return [f"fix: expected {wanted}, got {shown}"]
