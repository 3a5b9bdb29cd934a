"""`simulate --verify-fix`: try the fixes in order until one makes the build pass.

The fixes come from the fix planner (whole-service changes already checked with pip's
resolver, `simulator.check.planner`) and from the diagnosis (those with an action), the
planner's first when the failure is about packages. Each is applied to a fresh copy of the repo
(`simulator.verify.changes`) and the copy is built again with the same options, from a cold
cache (a fix that works on a first deploy works on every later one):

- a fix this machine cannot run (no image for its Python offline, ...) is skipped, and why is
  said; the next fix is tried;
- a fix that gets the build further, where a different package then fails, is extended with
  the fix for the new failure and built again, for up to `MAX_ROUNDS` builds;
- the first fix whose build passes is the answer: its whole change, as one render.yaml snippet
  or one diff that `git apply` takes.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import docker

from simulator.build.buildlog import Echo
from simulator.build.pipeline import DEFAULT_RUN, RunOptions, Spinner, no_spinner, run_build
from simulator.build.simulation import BuildResult
from simulator.check.planner import FixPlan
from simulator.config.version_requests import SOURCE_ENV, SOURCE_FILE
from simulator.diagnose.actions import flatten
from simulator.diagnose.diagnosis import Diagnosis, Fix, FixAction, PythonVersionFile, SetEnv
from simulator.errors import ImageUnavailableError, RenderSimError, UsageError
from simulator.index.client import PackageIndex
from simulator.plan.build_plan import make_plan
from simulator.plan.models import BuildPlan, Options, ServicePlan
from simulator.verify.changes import (
    Change,
    FixNotApplicable,
    apply_fix,
    copy_files,
    env_into_blueprint,
    files_to_copy,
)
from simulator.verify.outcome import (
    FAILED,
    NO_ACTION,
    NOT_APPLIED,
    NOT_NEEDED,
    NOT_RUN,
    PASSED,
    REFUSED,
    SKIPPED,
    STILL_FAILS,
    VERIFIED,
    Attempt,
    Verification,
)

MAX_ATTEMPTS = 6  # fixes tried
MAX_ROUNDS = 3  # builds for one fix, extensions included
#: Failures about packages, where the planner's whole-service fixes come first.
PACKAGE_CLASSES = frozenset(
    {
        "rust-readonly-cargo",
        "no-wheel-python-too-new",
        "rust-toolchain-missing",
        "missing-system-library",
        "distutils-removed",
        "resolver-conflict",
        "no-matching-distribution",
        "requirements-file-missing",
    }
)

Planner = Callable[[BuildPlan, ServicePlan], FixPlan]
OnStart = Callable[[int, Fix, Change, int], None]


def candidates(diagnosis: Diagnosis | None, planned: FixPlan | None) -> list[tuple[str, Fix]]:
    """The fixes to try, in order, with their origin ("plan" or "diagnosis"); one per action."""
    from_plan = [("plan", fix) for fix in (planned.fixes if planned else ()) if fix.action]
    from_log = [("diagnosis", fix) for fix in (diagnosis.fixes if diagnosis else ()) if fix.action]
    about_packages = diagnosis is None or diagnosis.failure_class in PACKAGE_CLASSES
    ordered = [*from_plan, *from_log] if about_packages else [*from_log, *from_plan]
    out: list[tuple[str, Fix]] = []
    for origin, fix in ordered:
        if all(fix.action != other.action for _, other in out):
            out.append((origin, fix))
    return out


def took_effect(action: FixAction, service: ServicePlan) -> str:
    """Why the planned rebuild does not carry the change ("" when it does)."""
    for step in flatten(action):
        if isinstance(step, SetEnv) and step.key == SOURCE_ENV:
            if service.python.version != step.value:
                return f"the rebuild's plan picked Python {service.python.version}"
        elif isinstance(step, SetEnv) and service.env.get(step.key) != step.value:
            return f"{step.key} is also set by --env-file, which wins: change it there"
        elif isinstance(step, PythonVersionFile) and service.python.source != SOURCE_FILE:
            return (
                f"Python is chosen by {service.python.source} ({service.python.requested}), "
                "which wins over .python-version"
            )
    return ""


def _further(before: Diagnosis | None, after: Diagnosis | None) -> bool:
    """Did the change get the build further: does a different package (or cause) fail now?"""
    if after is None or not after.is_known:
        return False
    if before is None:
        return True
    name = lambda d: d.package.name.lower().replace("_", "-") if d.package else None  # noqa: E731
    return (name(before), before.failure_class) != (name(after), after.failure_class)


class _Run:
    """What every attempt shares: the engine, the original build, the options."""

    def __init__(
        self,
        client: docker.DockerClient,
        plan: BuildPlan,
        service: ServicePlan,
        options: Options,
        *,
        run_options: RunOptions,
        echo: Echo,
        spinner: Spinner,
        on_start: OnStart | None,
        index: PackageIndex | None,
        planner: Planner | None,
    ) -> None:
        self.client, self.plan, self.service = client, plan, service
        # A cold first deploy: a cache volume per copy would outlive it.
        self.options = replace(options, build_cache=False, clear_cache=False)
        self.run_options, self.echo, self.spinner = run_options, echo, spinner
        self.on_start = on_start
        self.index, self.planner = index, planner
        self.plan_warnings: list[str] = []

    def attempt(self, attempt: Attempt, original: BuildResult) -> Change | None:
        """Build the copy with the fix (extended while it gets further); the final change
        when the build passes."""
        with tempfile.TemporaryDirectory(prefix="render-sim-verify-") as scratch:
            # the repo's own name: the log is named the same, and a service without render.yaml
            copy = Path(scratch) / (self.plan.repo.name or "repo")
            copy.mkdir()
            copy_files(self.plan.repo, files_to_copy(self.plan, self.service), copy)
            assert attempt.fix.action is not None
            actions = [attempt.fix.action]
            try:
                change = apply_fix(attempt.fix.action, copy, self.service, self.options)
            except (FixNotApplicable, RenderSimError) as error:
                attempt.status, attempt.reason = REFUSED, str(error)
                return None
            attempt.change = change
            before = original.diagnosis
            for round_number in range(1, MAX_ROUNDS + 1):
                outcome = self._build(attempt, copy, change, actions, round_number)
                if outcome is None:
                    return None
                if outcome.succeeded:
                    attempt.status = PASSED
                    final = env_into_blueprint(change, copy, self.service.name)
                    attempt.change = final
                    return final
                extended = self._extend(copy, change, before, outcome, actions)
                if extended is None:
                    attempt.status = FAILED
                    return None
                before = outcome.diagnosis
                change, step = extended
                actions.append(step)
                attempt.change = change
            attempt.status = FAILED
            attempt.reason = f"still failing after {MAX_ROUNDS} builds"
            return None

    def _build(
        self, attempt: Attempt, copy: Path, change: Change, actions: list[FixAction], number: int
    ) -> BuildResult | None:
        try:
            rebuilt = make_plan(copy, change.options, client=self.client)
            again = rebuilt.services[0]
        except UsageError:
            raise
        except RenderSimError as error:
            attempt.status, attempt.reason = REFUSED, str(error)
            return None
        self.plan_warnings = [*again.warnings, *rebuilt.warnings]
        for action in actions:
            missed = took_effect(action, again)
            if missed:
                attempt.status, attempt.reason = REFUSED, missed
                return None

        def announce() -> None:
            attempt.rounds = number
            if self.on_start is not None:
                self.on_start(attempt.number, attempt.fix, change, number)

        try:
            outcome = run_build(
                self.client,
                rebuilt,
                again,
                index=self.index,
                options=self.run_options,
                echo=self.echo,
                spinner=self.spinner,
                before_run=announce,
            )
        except ImageUnavailableError as error:
            attempt.status = SKIPPED
            attempt.reason = f"this machine cannot run it: {error}"
            return None
        attempt.result = outcome
        return outcome

    def _extend(
        self,
        copy: Path,
        change: Change,
        before: Diagnosis | None,
        outcome: BuildResult,
        actions: list[FixAction],
    ) -> tuple[Change, FixAction] | None:
        """When the build got further, the change extended with the next failure's fix."""
        if not _further(before, outcome.diagnosis):
            return None
        rebuilt = make_plan(copy, replace(change.options, probe_network=False), client=None)
        again = rebuilt.services[0]
        planned = self.planner(rebuilt, again) if self.planner is not None else None
        for _, fix in candidates(outcome.diagnosis, planned):
            if fix.action is None or fix.action in actions:
                continue
            try:
                step = apply_fix(fix.action, copy, again, change.options)
            except (FixNotApplicable, RenderSimError):
                continue
            return change.then(step), fix.action
        return None


def verify_fix(
    client: docker.DockerClient,
    plan: BuildPlan,
    service: ServicePlan,
    result: BuildResult,
    options: Options,
    *,
    run_options: RunOptions = DEFAULT_RUN,
    echo: Echo | None = None,
    spinner: Spinner = no_spinner,
    on_start: OnStart | None = None,
    index: PackageIndex | None = None,
    planner: Planner | None = None,
) -> Verification:
    """Try the fixes in order on copies of the repo until one builds green.

    `result` is the original build's (with its diagnosis); `planner(plan, service)` gives the
    planned fixes (None: only the diagnosis's). `on_start(number, fix, change, round)` is
    called before each rebuild; `echo` gets the rebuilds' logs; each rebuild runs through the
    build pipeline (`build.pipeline.run_build`) with `run_options`, as the original did. Only UsageError and Ctrl-C
    escape: an engine that goes away makes a NOT_RUN verification."""
    if result.succeeded:
        return Verification(service.name, NOT_NEEDED, result)
    planned = planner(plan, service) if planner is not None else None
    tries = candidates(result.diagnosis, planned)
    if not tries:
        return Verification(service.name, NO_ACTION, result)
    run = _Run(
        client,
        plan,
        service,
        options,
        run_options=run_options,
        echo=echo or (lambda _k, _l: None),
        spinner=spinner,
        on_start=on_start,
        index=index,
        planner=planner,
    )
    verification = Verification(service.name, NOT_APPLIED, result)
    for number, (origin, fix) in enumerate(tries[:MAX_ATTEMPTS], 1):
        attempt = Attempt(number, fix, origin)
        verification.attempts.append(attempt)
        try:
            change = run.attempt(attempt, result)
        except UsageError:
            raise
        except RenderSimError as error:  # the engine went away: nothing more can be built
            verification.status = NOT_RUN
            verification.reason, verification.hint = str(error), error.hint
            return verification
        verification.plan_warnings = run.plan_warnings
        if change is not None:
            verification.status = VERIFIED
            verification.fix, verification.fix_number = fix, number
            verification.change, verification.result = change, attempt.result
            return verification
    return _unverified(verification)


def _unverified(verification: Verification) -> Verification:
    """No fix passed: say how the last one that was built ended, or why none was."""
    built = [a for a in verification.attempts if a.result is not None]
    if built:
        last = built[-1]
        verification.status = STILL_FAILS
        verification.fix, verification.fix_number = last.fix, last.number
        verification.change, verification.result = last.change, last.result
        return verification
    last = verification.attempts[-1]
    skipped = [a for a in verification.attempts if a.status == SKIPPED]
    verification.status = NOT_RUN if skipped else NOT_APPLIED
    verification.fix, verification.fix_number = last.fix, last.number
    verification.change = last.change
    verification.reason = "; ".join(
        f"fix {a.number}: {a.reason}" for a in verification.attempts if a.reason
    )
    return verification


__all__ = ["FAILED", "candidates", "took_effect", "verify_fix"]
