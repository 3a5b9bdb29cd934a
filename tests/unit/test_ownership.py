"""Whose run is it: a run is removed by `clean` and the reaper only when its owner is dead here."""

from __future__ import annotations

import subprocess

from simulator.build import ownership
from simulator.build.ownership import HOST_LABEL, KEEP_LABEL, PID_LABEL, PID_NS_LABEL


def _dead_pid() -> int:
    proc = subprocess.Popen(["true"])
    proc.wait()
    return proc.pid


def test_a_run_of_this_process_is_alive() -> None:
    reason = ownership.why_alive(ownership.owner_labels())
    assert reason is not None and "still runs" in reason


def test_a_run_whose_process_ended_is_dead() -> None:
    labels = {**ownership.owner_labels(), PID_LABEL: str(_dead_pid())}
    labels.pop(ownership.PID_START_LABEL, None)
    assert ownership.why_alive(labels) is None


def test_a_run_whose_pid_now_belongs_to_another_process_is_dead() -> None:
    labels = {**ownership.owner_labels(), ownership.PID_START_LABEL: "1"}
    assert ownership.why_alive(labels) is None


def test_a_kept_run_is_never_dead() -> None:
    labels = {**ownership.owner_labels(), PID_LABEL: str(_dead_pid()), KEEP_LABEL: "1"}
    assert ownership.why_alive(labels) == "kept for inspection (--keep)"


def test_a_run_of_another_host_cannot_be_judged() -> None:
    labels = {**ownership.owner_labels(), HOST_LABEL: "elsewhere", PID_LABEL: str(_dead_pid())}
    reason = ownership.why_alive(labels)
    assert reason is not None and "made on host elsewhere" in reason


def test_a_run_of_another_pid_namespace_cannot_be_judged() -> None:
    labels = {**ownership.owner_labels(), PID_NS_LABEL: "pid:[1]", PID_LABEL: str(_dead_pid())}
    reason = ownership.why_alive(labels)
    assert reason is not None and "another PID namespace" in reason


def test_a_run_without_an_owner_cannot_be_judged() -> None:
    labels = {k: v for k, v in ownership.owner_labels().items() if k != PID_LABEL}
    reason = ownership.why_alive(labels)
    assert reason is not None and "no owner" in reason
