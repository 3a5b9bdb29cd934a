"""Shared fixtures of the real-Docker suite: the engine, the build images, test repos, CLI runs.

Every test here runs against a real Docker engine. Nothing is mocked and nothing is skipped:
without an engine the tests fail with a message saying so (CI must never pass by skipping).

The build images (Python 3.11, 3.13 and 3.14) are made once per session, concurrently: on a
fresh machine without a registry that means bootstrapping stand-ins from Debian (a few minutes
the first time); afterwards they are found by tag and the session starts at once.

`RENDER_SIM_HOME` points into a temporary directory for the whole session, so logs and image
build logs never land in the repo or in the user's cache.
"""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import textwrap
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import docker
import pytest

from simulator.build import cache, endpoints, ownership
from simulator.build.simulation import build_image
from simulator.errors import RenderSimError
from simulator.plan import base_images
from simulator.plan.build_plan import make_plan
from simulator.plan.models import Options
from tests.docker.hermetic_fixtures import (  # noqa: F401 - fixtures for the modules here
    docker_cleanup,
    docker_compose_command,
    docker_compose_file,
    docker_compose_project_name,
    docker_setup,
    fixtures_network,
    hermetic_results,
    hermetic_trees,
    tls_dir,
)
from tests.hermetic.cli_support import cli_argv, cli_env, labelled

PROJECT_ROOT = Path(__file__).resolve().parents[2]

# One Python per offline stand-in suite (versions listed in simulator/data/cpython_releases.yaml).
PYTHONS = {"3.11": "3.11.11", "3.13": "3.13.4", "3.14": "3.14.3"}
RENDER_DEFAULT_PYTHON = "3.14.3"

# A pip setting of the host that must never reach the build container.
HOST_PIP_FIND_LINKS = "/host-only/render-sim-test-wheels"

IMAGE_BUILD_TIMEOUT_S = 30 * 60
CLI_TIMEOUT_S = 15 * 60


# -- session ----------------------------------------------------------------------------------


@pytest.fixture(scope="session", autouse=True)
def render_sim_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """RENDER_SIM_HOME in a temporary directory, and a host PIP_* setting to prove isolation."""
    home = tmp_path_factory.mktemp("render-sim-home")
    patch = pytest.MonkeyPatch()
    patch.setenv("RENDER_SIM_HOME", str(home))
    patch.setenv("RENDER_SIM_CACHE", str(home))  # the package-index cache (diagnosis)
    patch.setenv("PIP_FIND_LINKS", HOST_PIP_FIND_LINKS)
    yield home
    patch.undo()


@pytest.fixture(scope="session")
def client() -> docker.DockerClient:
    """The local Docker engine; a missing engine FAILS the tests (never skips them)."""
    try:
        return endpoints.connect()
    except RenderSimError as error:
        pytest.fail(
            f"tests/docker need a running Docker engine and none answered: {error} "
            f"(fix: {error.hint}). These tests are never skipped.",
            pytrace=False,
        )


@pytest.fixture(scope="session", autouse=True)
def _remove_test_build_caches(
    client: docker.DockerClient, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[None]:
    """Build caches the test session made for its own repos go with it.

    A simulate keeps a build cache on purpose (Render's); the suite's ones are test debris: its
    repos under pytest's temp dir, and the shipped example when this test session made its
    cache (a cache of the example that a developer's `make simulate` made before stays).
    """
    before = {volume.name for volume in cache.cache_volumes(client)}
    yield
    roots = (str(tmp_path_factory.getbasetemp().resolve()), str(PROJECT_ROOT))
    for volume in cache.cache_volumes(client):
        label = volume.attrs["Labels"].get(ownership.CACHE_LABEL, "")
        if volume.name not in before and label.startswith(roots):
            volume.remove(force=True)


@dataclass(frozen=True)
class BuiltImage:
    """A build image made for one Python, and the base it was made on."""

    render_python: str
    tag: str
    base: base_images.BaseImage


@pytest.fixture(scope="session")
def built_images(
    client: docker.DockerClient, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, BuiltImage]:
    """The build images for 3.11, 3.13 and 3.14, keyed by minor ("3.14"), built concurrently.

    `pull=False`: the suite runs as on a machine without a registry, so the bases are the
    offline stand-ins (found by tag when present, else bootstrapped with mmdebstrap).
    """
    repo = tmp_path_factory.mktemp("image-repo")

    def build(version: str) -> BuiltImage:
        own_client = endpoints.connect()  # one client per thread
        plan = make_plan(repo, Options(python=version, build_command="true"), client=own_client)
        tag, base = build_image(own_client, plan, plan.services[0], pull=False)
        return BuiltImage(version, tag, base)

    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=len(PYTHONS)) as pool:
        futures = {minor: pool.submit(build, version) for minor, version in PYTHONS.items()}
        built: dict[str, BuiltImage] = {}
        errors: list[str] = []
        for minor, future in futures.items():
            try:
                built[minor] = future.result(timeout=IMAGE_BUILD_TIMEOUT_S)
            except RenderSimError as error:
                errors.append(f"Python {PYTHONS[minor]}: {error} ({error.hint})")
            except Exception as error:  # noqa: BLE001 - reported below, with the others
                errors.append(f"Python {PYTHONS[minor]}: {type(error).__name__}: {error}")
    if errors:
        pytest.fail(
            "could not make the build images the suite needs "
            f"(after {time.monotonic() - started:.0f} s):\n  " + "\n  ".join(errors),
            pytrace=False,
        )
    return built


# -- repos ------------------------------------------------------------------------------------


def write_repo(
    root: Path,
    build_command: str | None,
    *,
    service: str = "app",
    env_vars: str = "",
    files: dict[str, str | bytes] | None = None,
) -> Path:
    """A small Python service repo at `root`: render.yaml, a few files, an executable, a symlink.

    `build_command=None` writes no render.yaml (pass `--build-command` then).
    """
    root.mkdir(parents=True, exist_ok=True)
    if build_command is not None:
        blueprint = textwrap.dedent(
            f"""\
            services:
              - type: web
                name: {service}
                runtime: python
                plan: free
                buildCommand: {json.dumps(build_command)}
                startCommand: python main.py
            """
        )
        if env_vars:
            blueprint += "    envVars:\n" + textwrap.indent(textwrap.dedent(env_vars), " " * 6)
        (root / "render.yaml").write_text(blueprint, encoding="utf-8")
    (root / "main.py").write_text("print('hello from the app')\n", encoding="utf-8")
    (root / "requirements.txt").write_text("", encoding="utf-8")
    (root / "scripts").mkdir(exist_ok=True)
    run = root / "scripts" / "run.sh"
    run.write_text("#!/bin/sh\necho run\n", encoding="utf-8")
    run.chmod(0o755)
    (root / ".config").mkdir(exist_ok=True)
    (root / ".config" / "settings.ini").write_text("[app]\nname = demo\n", encoding="utf-8")
    link = root / "latest"
    if not link.is_symlink():
        link.symlink_to("main.py")
    for name, text in (files or {}).items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(text, bytes):
            path.write_bytes(text)
        else:
            path.write_text(text, encoding="utf-8")
    return root.resolve()


Snapshot = dict[str, tuple[Any, ...]]


def snapshot(root: Path) -> Snapshot:
    """Every entry under `root` (hidden ones too): its kind, mode, and bytes or link target."""
    out: Snapshot = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in sorted(dirnames + filenames):
            path = Path(dirpath, name)
            info = path.lstat()
            rel = path.relative_to(root).as_posix()
            if stat.S_ISLNK(info.st_mode):
                out[rel] = ("link", info.st_mode, os.readlink(path))
            elif stat.S_ISDIR(info.st_mode):
                out[rel] = ("dir", info.st_mode)
            else:
                out[rel] = ("file", info.st_mode, path.read_bytes())
    return out


# -- the CLI ----------------------------------------------------------------------------------


def run_cli(
    *args: str, cwd: Path | None = None, timeout: float = CLI_TIMEOUT_S, **env: str
) -> subprocess.CompletedProcess[str]:
    """Run `render-sim ARGS...` to completion and capture stdout and stderr."""
    return subprocess.run(
        cli_argv(*args),
        cwd=cwd,
        env=cli_env(**env),
        capture_output=True,
        text=True,
        encoding="utf-8",
        errors="replace",
        timeout=timeout,
    )


@dataclass
class CliRun:
    """One `render-sim simulate` run on its own repo, and what it left behind."""

    name: str
    repo: Path
    argv: list[str]
    returncode: int | None
    stdout: str
    stderr: str
    seconds: float
    before: Snapshot
    after: Snapshot
    containers: list[str]  # left over, by the repo's label
    volumes: list[str]
    seen_containers: list[str] = field(default_factory=list)  # while it ran (signal runs)
    seen_volumes: list[str] = field(default_factory=list)
    signal_to_exit_s: float | None = None

    def json(self) -> dict[str, Any]:
        try:
            return json.loads(self.stdout)
        except json.JSONDecodeError as error:
            raise AssertionError(
                f"`{' '.join(self.argv[3:])}` printed no JSON ({error}); "
                f"exit {self.returncode}\nstdout:\n{self.stdout[-3000:]}\nstderr:\n{self.stderr[-3000:]}"
            ) from None

    def result(self) -> dict[str, Any]:
        results = self.json()["results"]
        assert len(results) == 1, results
        return results[0]

    def explain(self) -> str:
        return (
            f"`render-sim {' '.join(self.argv[3:])}` exited {self.returncode} after "
            f"{self.seconds:.1f} s\n--- stdout (end) ---\n{self.stdout[-4000:]}\n"
            f"--- stderr (end) ---\n{self.stderr[-4000:]}"
        )


# Each scenario: the build command in render.yaml, and the CLI's options.
SCENARIOS: dict[str, tuple[str, list[str]]] = {
    "success": (
        "echo built > built.txt && mkdir -p dist && cp main.py dist/ && chmod 600 main.py "
        "&& rm requirements.txt && pip --version",
        [],
    ),
    "failure": ("echo about to fail && touch half-done.txt && exit 3", []),
    "out-of-memory": ('python -c "bytearray(1024**3)"', ["--memory", "256m"]),
    "timeout": ("touch started.txt && sleep 120", ["--timeout", "5s"]),
    "no-output": ("sleep 60", ["--idle-timeout", "3s"]),
}
SIGNALS = {"sigint": signal.SIGINT, "sigterm": signal.SIGTERM}
# The build prints the marker computed, so the plan card (which shows the command) cannot match it.
STARTED_COMMAND = "echo render-sim-test-started-$((20 + 22))"
STARTED_MARKER = "render-sim-test-started-42"


class CliRuns:
    """`render-sim simulate` runs shared by several test modules, each run once per session."""

    def __init__(self, root: Path, client: docker.DockerClient) -> None:
        self._root = root
        self._client = client
        self._runs: dict[str, CliRun] = {}

    def get(self, name: str) -> CliRun:
        if name not in self._runs:
            self._runs[name] = self._interrupted(name) if name in SIGNALS else self._complete(name)
        return self._runs[name]

    def _complete(self, name: str) -> CliRun:
        build_command, options = SCENARIOS[name]
        repo = write_repo(self._root / name, build_command, service=f"{name}-svc")
        before = snapshot(repo)
        argv = cli_argv("simulate", str(repo), "--json", *options)
        started = time.monotonic()
        proc = run_cli("simulate", str(repo), "--json", *options)
        seconds = time.monotonic() - started
        containers, volumes = labelled(self._client, repo)
        return CliRun(
            name,
            repo,
            argv,
            proc.returncode,
            proc.stdout,
            proc.stderr,
            seconds,
            before,
            snapshot(repo),
            containers,
            volumes,
        )

    def _interrupted(self, name: str) -> CliRun:
        """Start a long build, wait until its container runs the build command, then signal."""
        sig = SIGNALS[name]
        repo = write_repo(
            self._root / name, f"{STARTED_COMMAND} && sleep 300", service=f"{name}-svc"
        )
        before = snapshot(repo)
        argv = cli_argv("simulate", str(repo))
        lines: list[str] = []
        started = time.monotonic()
        proc = subprocess.Popen(
            argv,
            env=cli_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            encoding="utf-8",
            errors="replace",
        )
        assert proc.stdout is not None
        stream = proc.stdout
        reader = threading.Thread(target=lambda: lines.extend(stream), daemon=True)
        reader.start()
        seen_containers: list[str] = []
        seen_volumes: list[str] = []
        deadline = started + CLI_TIMEOUT_S
        while time.monotonic() < deadline and proc.poll() is None:
            seen_containers, seen_volumes = labelled(self._client, repo)
            if seen_containers and any(line.strip() == STARTED_MARKER for line in list(lines)):
                break
            time.sleep(0.2)
        if proc.poll() is not None or not seen_containers:
            proc.kill()
            proc.wait()
            reader.join(5)
            raise AssertionError(
                f"the build never started (exit {proc.returncode}, containers {seen_containers}):\n"
                + "".join(lines)[-4000:]
            )
        signalled = time.monotonic()
        proc.send_signal(sig)
        try:
            returncode: int | None = proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            returncode = None  # did not stop within a minute
        signal_to_exit = time.monotonic() - signalled
        reader.join(5)
        containers, volumes = labelled(self._client, repo)
        return CliRun(
            name,
            repo,
            argv,
            returncode,
            "".join(lines),
            "",
            time.monotonic() - started,
            before,
            snapshot(repo),
            containers,
            volumes,
            seen_containers=seen_containers,
            seen_volumes=seen_volumes,
            signal_to_exit_s=signal_to_exit,
        )


@pytest.fixture(scope="session")
def cli_runs(
    client: docker.DockerClient,
    built_images: dict[str, BuiltImage],
    tmp_path_factory: pytest.TempPathFactory,
) -> CliRuns:
    """The shared `render-sim simulate` runs (images built first, so timings are the build's)."""
    return CliRuns(tmp_path_factory.mktemp("cli-runs"), client)


@pytest.fixture
def make_repo(tmp_path: Path) -> Callable[..., Path]:
    """`make_repo(build_command, **kw)`: a test repo in this test's tmp_path."""

    def make(build_command: str | None, **kwargs: Any) -> Path:
        return write_repo(tmp_path / "repo", build_command, **kwargs)

    return make


# -- helpers as fixtures (test modules never import conftest: its module name is not unique) -----


@pytest.fixture(scope="session")
def repo_writer() -> Callable[..., Path]:
    """`write_repo(root, build_command, **kw)`, for module-scoped repos."""
    return write_repo


@pytest.fixture(scope="session")
def render_sim() -> Callable[..., subprocess.CompletedProcess[str]]:
    """`render_sim(*args, cwd=None, timeout=..., **env)`: run the CLI to completion."""
    return run_cli


@pytest.fixture(scope="session")
def tree_snapshot() -> Callable[[Path], Snapshot]:
    """`tree_snapshot(root)`: every entry's path, kind, mode and bytes."""
    return snapshot
