"""Limits given on the command line: out of range is a usage error (exit 2) naming the option and
the range it accepts, never a traceback and never a limit silently dropped.

These are refused while the options are read, before any engine is asked (none is needed).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from simulator.errors import UsageError
from simulator.units import parse_bytes, parse_cpus, parse_seconds


def _simulate(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "simulator", "simulate", str(tmp_path), *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={"PATH": "/usr/bin:/bin", "COLUMNS": "300", "DOCKER_HOST": "unix:///nonexistent"},
    )


@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "0.001", "0"])
def test_cpus_docker_cannot_set_is_a_usage_error_naming_the_range(
    tmp_path: Path, value: str
) -> None:
    proc = _simulate(tmp_path, "--cpus", value)
    assert proc.returncode == 2, proc.stderr
    assert "--cpus" in proc.stderr and "0.01" in proc.stderr, proc.stderr
    assert "Traceback" not in proc.stderr


def test_cpus_below_docker_minimum_is_refused_not_rounded_to_no_limit() -> None:
    # Docker takes the limit in billionths of a CPU: this one would be 0, which means no limit
    with pytest.raises(UsageError):
        parse_cpus(1e-10)


def test_memory_beyond_any_machine_is_a_usage_error_naming_the_range(tmp_path: Path) -> None:
    proc = _simulate(tmp_path, "--memory", "99999999999999t")
    assert proc.returncode == 2, proc.stderr
    assert "--memory" in proc.stderr and "6m to 1024g" in proc.stderr, proc.stderr
    assert "Traceback" not in proc.stderr


@pytest.mark.parametrize("value", ["0", "0s", "0m", "0.0h"])
def test_zero_timeout_is_a_usage_error(tmp_path: Path, value: str) -> None:
    proc = _simulate(tmp_path, "--timeout", value)
    assert proc.returncode == 2, proc.stderr
    assert "--timeout" in proc.stderr and "more than 0" in proc.stderr, proc.stderr


def test_zero_idle_timeout_still_means_never() -> None:
    assert parse_seconds("0", "--idle-timeout") == 0


def test_timeout_beyond_a_week_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="--timeout 200h"):
        parse_seconds("200h", "--timeout", allow_zero=False)


def test_memory_at_the_top_of_the_range_is_accepted() -> None:
    assert parse_bytes("1024g") == 1024**4


def test_cpus_of_renders_pipeline_are_accepted() -> None:
    assert parse_cpus(2.0) == 2.0
