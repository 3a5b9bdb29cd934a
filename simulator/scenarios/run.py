"""Run regression scenarios in parallel and compare each build with what its manifest expects.

Each scenario: copy its folder (minus scenario.yaml) to a fresh temporary directory -> plan ->
build image -> simulate -> diagnose when the build did not succeed -> compare. The scenario
folder is never written to, and every run is a first deploy (no build cache).

Scenarios share images: each distinct build image is resolved and built once, by the first
scenario that needs it, while the others needing it wait (`_Images`).

Ctrl-C: KeyboardInterrupt reaches only the main thread, so the main thread stops the workers by
raising KeyboardInterrupt inside each busy one (`PyThreadState_SetAsyncExc`). It arrives at the
worker's next Python instruction, at the latest when `BuildContainer.run` next polls the output
(about once a second), and unwinds through `BuildContainer`, which kills and removes the
container and its volumes as it does for Ctrl-C in `simulate`. Whatever a worker could not clean
up in time is removed by label afterwards.
"""

from __future__ import annotations

import contextlib
import ctypes
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import docker
import docker.errors

from simulator.build import images
from simulator.build.pipeline import RunOptions, run_build
from simulator.build.simulation import BuildResult, build_image
from simulator.errors import RenderSimError, ScenarioError, UsageError
from simulator.index.client import PackageIndex
from simulator.plan.build_plan import BuildPlan, Options, ServicePlan, make_plan
from simulator.scenarios.compare import compare, compare_verify
from simulator.scenarios.manifest import MANIFEST, Scenario
from simulator.verify.loop import verify_fix
from simulator.verify.network import network_hosts
from simulator.verify.outcome import Verification

FIXTURES_NEEDED = (
    "needs render-sim's fixture network (`network: fixtures`: the local package index and cargo "
    "registry): pass --fixtures-network NAME, or run `make test-scenarios`"
)
STOP_GRACE_S = 60.0  # how long interrupted workers get to remove their containers
REPO_LABEL = "render-sim.repo"  # set by simulate_service on its container and volumes


def _quiet(_: str) -> None:
    """The default progress callback: say nothing."""


@dataclass
class ScenarioResult:
    """How one scenario went: passed, the mismatches, or the error that stopped it."""

    scenario: Scenario
    passed: bool
    mismatches: list[str]
    result: BuildResult | None
    plan_warnings: list[str]
    duration_s: float
    error: str | None = None  # a render-sim error (message and fix) that stopped the scenario
    verification: Verification | None = None  # --verify-fix, when the manifest expects it

    @property
    def status(self) -> str:
        """ "passed", "failed" (the build missed an expectation) or "error" (it could not run)."""
        if self.error is not None:
            return "error"
        return "passed" if self.passed else "failed"

    def got(self) -> str:
        """`failed/rust-readonly-cargo`: the outcome, and the class when there is a diagnosis."""
        if self.result is None:
            return "error" if self.error else "-"
        diagnosis = self.result.diagnosis
        if diagnosis is None:
            return self.result.outcome
        return f"{self.result.outcome}/{diagnosis.failure_class}"

    def to_dict(self) -> dict[str, Any]:
        result = self.result
        diagnosis = result.diagnosis if result else None
        return {
            "name": self.scenario.name,
            "path": str(self.scenario.path),
            "description": self.scenario.description,
            "kind": self.scenario.kind,
            "network": self.scenario.network,
            "status": self.status,
            "passed": self.passed,
            "expected": self.scenario.expect.to_dict(),
            "got": {
                "outcome": result.outcome if result else None,
                "exit_code": result.exit_code if result else None,
                "class": diagnosis.failure_class if diagnosis else None,
                "package": diagnosis.package.to_dict() if diagnosis and diagnosis.package else None,
            },
            "mismatches": list(self.mismatches),
            "error": self.error,
            "duration_s": round(self.duration_s, 2),
            "log_path": str(result.log_path) if result else None,
            "plan_warnings": list(self.plan_warnings),
            "result": result.to_dict() if result else None,
            "verify_fix": self.verification.to_dict() if self.verification else None,
        }


# -- images -------------------------------------------------------------------------------------


@dataclass
class _Entry:
    lock: threading.Lock = field(default_factory=threading.Lock)
    value: tuple[str, images.BaseImage] | None = None
    error: RenderSimError | None = None


class _Images:
    """Each distinct build image once: the first scenario builds it, the others wait for it.

    A failure is remembered too, so ten scenarios on a Python without an image fail at once
    with the same error instead of trying ten times. Bases of one Python are resolved one at a
    time (bootstrapping one stand-in twice at once would only waste minutes).
    """

    def __init__(
        self,
        client: docker.DockerClient,
        *,
        base_image: str | None,
        pull: bool,
        progress: Callable[[str], None],
    ) -> None:
        self._client = client
        self._base_image = base_image
        self._pull = pull
        self._progress = progress
        self._lock = threading.Lock()
        self._entries: dict[tuple[Any, ...], _Entry] = {}
        self._bases: dict[str, threading.Lock] = {}

    def get(self, plan: BuildPlan, service: ServicePlan) -> tuple[str, images.BaseImage]:
        python = service.python.version
        key = (python, self._base_image, service.poetry_version, service.uv_version, plan.ca_cert)
        with self._lock:
            entry = self._entries.setdefault(key, _Entry())
            base_lock = self._bases.setdefault(python, threading.Lock())
        with entry.lock:
            if entry.value is None and entry.error is None:
                with base_lock:
                    try:
                        entry.value = build_image(
                            self._client,
                            plan,
                            service,
                            base_image=self._base_image,
                            pull=self._pull,
                            progress=lambda m: self._progress(f"image for Python {python}: {m}"),
                        )
                    except RenderSimError as error:
                        entry.error = error
            if entry.error is not None:
                raise entry.error
            assert entry.value is not None
            return entry.value


# -- running ------------------------------------------------------------------------------------


@dataclass
class _Run:
    """What every worker shares."""

    client: docker.DockerClient
    images: _Images
    fixtures_network: str | None
    base_image: str | None
    offline_index: bool
    pull: bool = True
    copies: set[Path] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)


def copy_scenario(scenario: Scenario, into: Path) -> Path:
    """Copy the scenario's files, all but its manifest, to `into/<name>` (Render's checkout)."""
    target = into / scenario.name

    def skip_manifest(directory: str, names: list[str]) -> set[str]:
        return {MANIFEST} if Path(directory) == scenario.path else set()

    shutil.copytree(scenario.path, target, symlinks=True, ignore=skip_manifest)
    return target


def run_scenario(run: _Run, scenario: Scenario) -> ScenarioResult:
    """Run one scenario; a render-sim error makes it an error result, not a crash."""
    started = time.monotonic()
    warnings: list[str] = []

    def error_result(message: str, result: BuildResult | None = None) -> ScenarioResult:
        return ScenarioResult(
            scenario, False, [], result, warnings, time.monotonic() - started, message
        )

    if scenario.network == "fixtures" and not run.fixtures_network:
        return error_result(FIXTURES_NEEDED)
    options = scenario.options
    if scenario.network == "fixtures":
        options = replace(options, network=run.fixtures_network or "none")
    if run.base_image:
        options = replace(options, base_image=run.base_image)
    result: BuildResult | None = None
    verification: Verification | None = None
    try:
        with tempfile.TemporaryDirectory(prefix="render-sim-scenario-") as tmp:
            repo = copy_scenario(scenario, Path(tmp)).resolve()
            with run.lock:
                run.copies.add(repo)
            plan = make_plan(repo, options, client=run.client)
            if len(plan.services) != 1:
                names = ", ".join(s.name for s in plan.services)
                raise ScenarioError(
                    f"the scenario builds {len(plan.services)} services ({names}); a scenario "
                    "expects one build",
                    hint=f"set `options: {{service: NAME}}` in {scenario.manifest}",
                )
            service = plan.services[0]
            warnings += [*service.warnings, *plan.warnings]
            index = PackageIndex(offline=run.offline_index or scenario.hermetic)
            run_options = RunOptions(
                base_image=run.base_image, pull=run.pull, volume_options=scenario.volume_options
            )
            result = run_build(
                run.client,
                plan,
                service,
                index=index,
                options=run_options,
                images=lambda plan, service, _progress: run.images.get(plan, service),
            )
            if not result.succeeded and scenario.expect.verify is not None:
                verification = _verify(run, scenario, plan, service, result, options, index)
    except RenderSimError as error:
        return error_result(str(error) + (f" (fix: {error.hint})" if error.hint else ""), result)
    except docker.errors.DockerException as error:
        message = str(error).splitlines()[0][:300] if str(error) else type(error).__name__
        return error_result(f"Docker engine error: {message}", result)
    mismatches = compare(scenario.expect, result, warnings)
    if scenario.expect.verify is not None:
        mismatches += compare_verify(scenario.expect.verify, verification)
    return ScenarioResult(
        scenario,
        not mismatches,
        mismatches,
        result,
        warnings,
        time.monotonic() - started,
        verification=verification,
    )


def _verify(
    run: _Run,
    scenario: Scenario,
    plan: BuildPlan,
    service: ServicePlan,
    result: BuildResult,
    options: Options,
    index: PackageIndex,
) -> Verification:
    """`--verify-fix` for the scenario's failed build, with the fix planner reaching the
    fixture network's index (hermetic scenarios) or the internet's."""
    from simulator.check.service import planner_for

    hosts = network_hosts(run.client, options.network) if options.network else {}
    return verify_fix(
        run.client,
        plan,
        service,
        result,
        options,
        run_options=RunOptions(base_image=run.base_image, pull=run.pull),
        index=index,
        planner=planner_for(hosts),
    )


def run_scenarios(
    client: docker.DockerClient,
    scenarios: Sequence[Scenario],
    *,
    jobs: int = 1,
    fixtures_network: str | None = None,
    pull: bool = True,
    base_image: str | None = None,
    offline_index: bool = False,
    progress: Callable[[str], None] = _quiet,
    on_result: Callable[[ScenarioResult], None] | None = None,
) -> list[ScenarioResult]:
    """Run `scenarios` on `jobs` threads; results in the order given.

    `progress` hears what the image builds are doing; `on_result` gets each result as its
    scenario finishes (called one at a time). On Ctrl-C the builds are stopped, their
    containers and volumes removed, and KeyboardInterrupt raised again.
    """
    if jobs < 1:
        raise UsageError(f"--jobs {jobs} must be at least 1")
    if fixtures_network and any(s.network == "fixtures" for s in scenarios):
        _check_network(client, fixtures_network)
    run = _Run(
        client,
        _Images(client, base_image=base_image, pull=pull, progress=progress),
        fixtures_network,
        base_image,
        offline_index,
        pull,
    )
    todo = list(enumerate(scenarios))
    results: list[ScenarioResult | None] = [None] * len(scenarios)
    stop = threading.Event()
    busy: set[int] = set()  # thread idents of workers inside a scenario
    crashed: list[Exception] = []  # a bug in render-sim: raised again in the caller's thread

    def worker() -> None:
        me = threading.get_ident()
        try:
            while True:
                with run.lock:
                    if stop.is_set() or not todo:
                        return
                    index, scenario = todo.pop(0)
                    busy.add(me)
                outcome = run_scenario(run, scenario)
                with run.lock:
                    busy.discard(me)
                    results[index] = outcome
                    if on_result is not None:
                        on_result(outcome)
        except KeyboardInterrupt:
            return  # told to stop by the main thread: the container is already removed
        except Exception as error:
            with run.lock:
                crashed.append(error)
                stop.set()

    threads = [
        threading.Thread(target=worker, name=f"render-sim-scenario-{i}", daemon=True)
        for i in range(min(jobs, len(scenarios)))
    ]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            while thread.is_alive():
                thread.join(0.2)
    except KeyboardInterrupt:
        with run.lock:
            stop.set()
            for ident in busy:
                _raise_in_thread(ident, KeyboardInterrupt)
            busy.clear()
        deadline = time.monotonic() + STOP_GRACE_S
        with contextlib.suppress(KeyboardInterrupt):  # a second Ctrl-C: straight to the sweep
            for thread in threads:
                thread.join(max(0.0, deadline - time.monotonic()))
        remove_leftovers(client, run.copies)
        raise
    if crashed:
        raise crashed[0]
    return [r for r in results if r is not None]


def _raise_in_thread(ident: int, exception: type[BaseException]) -> None:
    """Raise `exception` in thread `ident` at its next Python instruction."""
    ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(ident), ctypes.py_object(exception))


def _check_network(client: docker.DockerClient, name: str) -> None:
    try:
        client.networks.get(name)
    except docker.errors.NotFound:
        raise UsageError(
            f"--fixtures-network {name!r}: no Docker network of that name",
            hint="start render-sim's fixtures first (`make test-scenarios` does), or give the "
            "name of their network",
        ) from None


def remove_leftovers(client: docker.DockerClient, repos: Iterable[Path]) -> list[str]:
    """Remove the containers and volumes of scenario builds (by their repo label); their names."""
    removed: list[str] = []
    for repo in repos:
        label = {"label": f"{REPO_LABEL}={repo}"}
        with contextlib.suppress(docker.errors.DockerException):
            for container in client.containers.list(all=True, filters=label):
                with contextlib.suppress(docker.errors.NotFound):
                    container.remove(force=True, v=True)
                    removed.append(container.name)
            for volume in client.volumes.list(filters=label):
                with contextlib.suppress(docker.errors.APIError):
                    volume.remove(force=True)
                    removed.append(volume.name)
    return removed
