"""No line of a build's output is lost, however fast it prints and however slow the terminal.

The record (the saved log, `--json`, the diagnosis's input) holds every line; only the live echo
is thinned when it cannot keep up. The builds print a burst at the very end, the case that lost
the tail before: the command has exited while most of its output is still on the way.
"""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import docker
import pytest

from simulator.build.simulation import simulate_service
from simulator.plan.build_plan import make_plan
from simulator.plan.models import Options

pytestmark = pytest.mark.docker

LINES = 1_000_000
# numbered lines, all written in the build's last moment, then a last line and a failing exit
BURST = (
    "python3 -c \"import sys; sys.stdout.write(''.join(f'burst line {i}\\n' "
    f"for i in range({LINES})))\" && echo 'error: the-very-last-line' && exit 3"
)


def _burst_lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.startswith("burst line ")]


@pytest.fixture(scope="module")
def cli_run(
    built_images: dict[str, Any],
    repo_writer: Callable[..., Path],
    render_sim: Callable[..., subprocess.CompletedProcess[str]],
    tmp_path_factory: pytest.TempPathFactory,
) -> subprocess.CompletedProcess[str]:
    repo = repo_writer(tmp_path_factory.mktemp("burst") / "repo", BURST)
    return render_sim("simulate", str(repo), "--json", "--no-cache", "--python", "3.13.4")


def test_a_million_line_burst_is_all_in_the_saved_log(
    cli_run: subprocess.CompletedProcess[str],
) -> None:
    result = json.loads(cli_run.stdout)["results"][0]
    saved = Path(result["log_path"]).read_text(encoding="utf-8")
    assert _burst_lines(saved) == [f"burst line {i}" for i in range(LINES)]
    assert "error: the-very-last-line" in saved.splitlines()
    assert saved.rindex("error: the-very-last-line") > saved.index(f"burst line {LINES - 1}")


def test_the_burst_build_fails_with_its_own_exit_code(
    cli_run: subprocess.CompletedProcess[str],
) -> None:
    result = json.loads(cli_run.stdout)["results"][0]
    assert (result["outcome"], result["exit_code"]) == ("failed", 3), cli_run.stderr[-2000:]
    assert "error: the-very-last-line" in result["last_error_lines"]


def test_the_live_echo_says_what_it_left_out_and_shows_the_end(
    cli_run: subprocess.CompletedProcess[str],
) -> None:
    live = cli_run.stderr  # --json: the live log goes to stderr
    assert "printed too fast to show here; the saved log has every line" in live
    assert "error: the-very-last-line" in live.splitlines()
    assert len(_burst_lines(live)) < LINES


def test_a_slow_terminal_loses_no_line(
    client: docker.DockerClient,
    built_images: dict[str, Any],
    repo_writer: Callable[..., Path],
    tmp_path: Path,
) -> None:
    count = 20_000
    command = (
        f"seq -f 'burst line %.0f' 0 {count - 1} && echo 'error: the-very-last-line' && exit 3"
    )
    repo = repo_writer(tmp_path / "repo", command)
    plan = make_plan(repo, Options(python="3.13.4", build_cache=False), client=client)
    image = built_images["3.13"]

    def slow_terminal(_kind: str, _line: str) -> None:
        time.sleep(0.0005)  # 2,000 lines a second at the most

    result = simulate_service(
        client, plan, plan.services[0], image=image.tag, base=image.base, echo=slow_terminal
    )
    assert (result.outcome, result.exit_code) == ("failed", 3)
    assert _burst_lines(result.log_text) == [f"burst line {i}" for i in range(count)]
    assert "error: the-very-last-line" in result.log_text
    assert _burst_lines(result.log_path.read_text(encoding="utf-8")) == _burst_lines(
        result.log_text
    )
