"""Facts the plan knows reach the diagnosis as data (`DiagnosisContext`), never as log text.

A simulation on a machine that cannot reach crates.io sees cargo fail on the network, where
Render's build fails on its read-only /usr/local/cargo. The plan probes crates.io and says so in
`ServicePlan.crates_io_reachable`; the rule that reads cargo's network error as Render's failure
counts only with that fact (`when_context` in rules.yaml).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from simulator.diagnose.catalogue import RULES_PATH, RuleCatalogueError, load_rules
from simulator.diagnose.classifier import classify
from simulator.diagnose.diagnosis import DiagnosisContext

CUT_OFF = """\
==> Running build command 'pip install -r requirements.txt'...
Collecting pydantic-core==2.23.4 (from pydantic==2.9.2->-r requirements.txt (line 2))
  Downloading pydantic_core-2.23.4.tar.gz (402 kB)
  Preparing metadata (pyproject.toml): started
  Preparing metadata (pyproject.toml): finished with status 'error'
  error: subprocess-exited-with-error

  × Preparing metadata (pyproject.toml) did not run successfully.
  │ exit code: 1
  ╰─> [6 lines of output]
      Updating crates.io index
      warning: spurious network error (1 tries remaining): [6] Could not resolve host: index.crates.io
      error: failed to get `pyo3` as a dependency of package `pydantic-core v2.23.4`
      Caused by: [6] Could not resolve hostname (Could not resolve host: index.crates.io)
      💥 maturin failed
        Caused by: Cargo metadata failed. Does your crate compile with `cargo build`?
      [end of output]
error: metadata-generation-failed
==> Build failed 😞
"""


def _context(unreachable: bool) -> DiagnosisContext:
    return DiagnosisContext(python_version="3.14.3", crates_io_unreachable=unreachable)


def test_cargo_cut_off_from_crates_io_in_a_simulation_is_renders_read_only_cargo_failure() -> None:
    diagnosis = classify(CUT_OFF, _context(True))
    assert diagnosis.failure_class == "rust-readonly-cargo"
    assert diagnosis.package is not None and diagnosis.package.name == "pydantic-core"
    assert "could not reach crates.io" in diagnosis.explanation


def test_the_same_log_without_the_plans_fact_is_not_blamed_on_render() -> None:
    diagnosis = classify(CUT_OFF, _context(False))
    assert diagnosis.failure_class != "rust-readonly-cargo"
    assert "crates.io" not in diagnosis.explanation


def test_a_rule_may_only_require_a_known_context_fact(tmp_path: Path) -> None:
    text = RULES_PATH.read_text(encoding="utf-8").replace(
        "when_context: crates_io_unreachable", "when_context: the_moon_is_full", 1
    )
    broken = tmp_path / "rules.yaml"
    broken.write_text(text, encoding="utf-8")
    with pytest.raises(RuleCatalogueError, match="when_context"):
        load_rules(broken)
