"""Run regression scenarios in parallel and compare each build with what its manifest expects.

Each scenario: copy its folder (minus scenario.yaml) to a fresh temporary directory -> plan ->
build image -> simulate -> diagnose when the build did not succeed -> compare. The scenario
folder is never written to, and every run is a first deploy (no build cache).

Scenarios share images: each distinct build image is resolved and built once, by the first
scenario that needs it, while the others needing it wait (`scenarios.engines.EngineImages`).

Several engines (`--engine A --engine B`): each engine gets `jobs` workers of its own, and every
worker takes the next scenario of one shared queue, so a fast engine simply runs more of them.
An engine that lacks a build image gets a copy from the engine that has or built it.

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

from simulator.build.endpoints import Endpoint, Engine
from simulator.build.pipeline import RunOptions, run_build
from simulator.build.simulation import BuildResult
from simulator.errors import RenderSimError, ScenarioError, UsageError
from simulator.index.client import PackageIndex
from simulator.plan.build_plan import make_plan
from simulator.plan.models import BuildPlan, Options, ServicePlan
from simulator.scenarios.compare import compare, compare_verify
from simulator.scenarios.engines import EngineImages
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
    engine: str = ""  # the Docker engine it ran on (its context name or URL)
    image_s: float = 0.0  # of duration_s: waiting for its build image (made once per run)

    @property
    def own_s(self) -> float:
        """The scenario's own time, without waiting for its image (what shards balance by)."""
        return max(0.0, self.duration_s - self.image_s)

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
            "image_s": round(self.image_s, 2),
            "engine": self.engine or None,
            "log_path": str(result.log_path) if result else None,
            "plan_warnings": list(self.plan_warnings),
            "result": result.to_dict() if result else None,
            "verify_fix": self.verification.to_dict() if self.verification else None,
        }


# -- running ------------------------------------------------------------------------------------


@dataclass
class _Run:
    """What the workers of one engine share (`copies` and `lock` are the whole run's)."""

    engine: Engine
    images: EngineImages
    fixtures_network: str | None
    base_image: str | None
    offline_index: bool
    pull: bool = True
    copies: set[Path] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def client(self) -> docker.DockerClient:
        return self.engine.client


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
    waited = [0.0]  # seconds spent getting the build image

    def error_result(message: str, result: BuildResult | None = None) -> ScenarioResult:
        return ScenarioResult(
            scenario,
            False,
            [],
            result,
            warnings,
            time.monotonic() - started,
            message,
            engine=run.engine.name,
            image_s=waited[0],
        )

    def image(plan: BuildPlan, service: ServicePlan, _progress: Any) -> Any:
        begun = time.monotonic()
        try:
            return run.images.get(run.engine, plan, service)
        finally:
            waited[0] += time.monotonic() - begun

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
                images=image,
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
        engine=run.engine.name,
        image_s=waited[0],
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
    engines: docker.DockerClient | Sequence[Engine] | None,
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
    """Run `scenarios` on `jobs` threads per engine; results in the order given.

    `engines` is one Docker client, or several `Engine`s to spread the scenarios over (each
    with `jobs` workers of its own, all taking from one queue). `progress` hears what the image
    builds are doing; `on_result` gets each result as its scenario finishes (called one at a
    time). On Ctrl-C the builds are stopped, their containers and volumes removed, and
    KeyboardInterrupt raised again.
    """
    if jobs < 1:
        raise UsageError(f"--jobs {jobs} must be at least 1")
    fleet = _engines(engines)
    if fixtures_network and any(s.network == "fixtures" for s in scenarios):
        for engine in fleet:
            _check_network(engine, fixtures_network, several=len(fleet) > 1)
    images = EngineImages(fleet, base_image=base_image, pull=pull, progress=progress)
    copies: set[Path] = set()
    lock = threading.Lock()
    runs = [
        _Run(engine, images, fixtures_network, base_image, offline_index, pull, copies, lock)
        for engine in fleet
    ]
    todo = list(enumerate(scenarios))
    results: list[ScenarioResult | None] = [None] * len(scenarios)
    stop = threading.Event()
    busy: set[int] = set()  # thread idents of workers inside a scenario
    crashed: list[Exception] = []  # a bug in render-sim: raised again in the caller's thread

    def worker(run: _Run) -> None:
        me = threading.get_ident()
        try:
            while True:
                with lock:
                    if stop.is_set() or not todo:
                        return
                    index, scenario = todo.pop(0)
                    busy.add(me)
                outcome = run_scenario(run, scenario)
                with lock:
                    busy.discard(me)
                    results[index] = outcome
                    if on_result is not None:
                        on_result(outcome)
        except KeyboardInterrupt:
            return  # told to stop by the main thread: the container is already removed
        except Exception as error:
            with lock:
                crashed.append(error)
                stop.set()

    # Worker slots round-robin over the engines: with fewer scenarios than slots, every engine
    # still gets work before any engine gets a second worker.
    slots = [run for _ in range(jobs) for run in runs][: len(scenarios)]
    threads = [
        threading.Thread(target=worker, args=(run,), name=f"render-sim-scenario-{i}", daemon=True)
        for i, run in enumerate(slots)
    ]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            while thread.is_alive():
                thread.join(0.2)
    except KeyboardInterrupt:
        with lock:
            stop.set()
            for ident in busy:
                _raise_in_thread(ident, KeyboardInterrupt)
            busy.clear()
        deadline = time.monotonic() + STOP_GRACE_S
        with contextlib.suppress(KeyboardInterrupt):  # a second Ctrl-C: straight to the sweep
            for thread in threads:
                thread.join(max(0.0, deadline - time.monotonic()))
        for engine in fleet:
            remove_leftovers(engine.client, copies)
        raise
    if crashed:
        raise crashed[0]
    return [r for r in results if r is not None]


def _engines(engines: docker.DockerClient | Sequence[Engine] | None) -> list[Engine]:
    """The engines to run on: `Engine`s as given, or one made of a bare client."""
    if isinstance(engines, Sequence):
        if not engines:
            raise UsageError("no Docker engine to run the scenarios on")
        return list(engines)
    base_url = str(getattr(getattr(engines, "api", None), "base_url", "") or "engine")
    return [Engine(Endpoint(base_url, "default"), engines)]


def _raise_in_thread(ident: int, exception: type[BaseException]) -> None:
    """Raise `exception` in thread `ident` at its next Python instruction."""
    ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(ident), ctypes.py_object(exception))


def _check_network(engine: Engine, name: str, *, several: bool) -> None:
    try:
        engine.client.networks.get(name)
    except docker.errors.NotFound:
        where = f" on engine {engine.name}" if several else ""
        raise UsageError(
            f"--fixtures-network {name!r}: no Docker network of that name{where}",
            hint="start render-sim's fixtures first (`make test-scenarios` does), or give the "
            "name of their network"
            + ("; each engine needs its own fixtures under the same name" if several else ""),
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
