"""`plan --strict`: the warnings about a repo's own configuration, which then fail the plan.

A warning fails under --strict when the repo can fix it in a commit: the Blueprint's (an unknown
field, a legacy key, ...), the Python version's (`runtime.txt` ignored, a misspelled
`.python-version`, a `PYTHON_VERSION` that shadows the file, a creation date Render's table does
not cover), and the build command's lint (errors and warnings). Two kinds never fail it, because
no commit can fix them: the state of this checkout (uncommitted or untracked files, as in every
pre-commit run) and values that live in Render's Dashboard (`sync: false` variables, environment
groups not in the file).
"""

from __future__ import annotations

from simulator.config.blueprint import load_blueprint
from simulator.plan.models import BuildPlan

#: Blueprint warnings about values only Render's Dashboard holds, told by their wording (which
#: tests/unit/test_plan_strict.py pins): a `sync: false` variable, an environment group that
#: is not in the file (it lives in the Dashboard).
DASHBOARD_ONLY = ("has sync: false", "is not defined in this file")
#: Lint codes whose finding the Python version already warns about (with the same fix).
SAME_AS_PYTHON_WARNING = frozenset({"runtime-txt"})
FAILING_SEVERITIES = ("error", "warning")


def strict_findings(plan: BuildPlan) -> list[str]:
    """The plan's warnings that `--strict` turns into a failure, one line each."""
    findings: list[str] = []
    if plan.blueprint is not None:
        # Read again, rather than told apart in the plan's list from the checkout's warnings
        warnings = load_blueprint(plan.blueprint, plan.repo).warnings
        findings += [w for w in warnings if not any(text in w for text in DASHBOARD_ONLY)]
    for service in plan.services:
        findings += [f"service {service.name}: {warning}" for warning in service.python.warnings]
        findings += [
            f"service {service.name}: {item.where}: {item.message}"
            for item in service.lints
            if item.severity in FAILING_SEVERITIES and item.code not in SAME_AS_PYTHON_WARNING
        ]
    return findings
