"""Split a scenario suite into N shards, each run by its own CI job, with no coordinator.

Every shard computes the same split from the same inputs, so shards need not talk to each
other: shard I of N takes its share of the suite's *sorted* names.

- Without durations, the names are dealt round-robin: name k (0-based, sorted) goes to shard
  k mod N + 1. Shards then differ by at most one scenario.
- With a durations file (`--durations FILE`: name -> seconds, written by every run), the split
  balances by recorded time: greedy longest-first into N bins (the longest scenario to the bin
  with the least time so far; ties between scenarios broken by name, between bins by number). A
  scenario the file does not know counts as the median of those it knows. Every shard must read
  the same file, or two shards could take the same scenario: CI restores one file for all.

`I/N` comes from `--shard I/N`, else from the CI's own variables where it has them
(`CI_ENV`: GitLab's `parallel:`, Buildkite's `parallelism:`, CircleCI's `parallelism:`).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from simulator.errors import ConfigurationError, UsageError

_SHARD = re.compile(r"\s*(\d+)\s*/\s*(\d+)\s*")


@dataclass(frozen=True)
class Shard:
    """Shard `index` (1-based) of `total`."""

    index: int
    total: int
    source: str = "--shard"  # where it came from: --shard, or the CI variables' names

    def __str__(self) -> str:
        return f"{self.index}/{self.total}"


@dataclass(frozen=True)
class CiShardVariables:
    """A CI system's variables saying which parallel job this is."""

    ci: str
    index: str
    total: str
    first: int  # the index of the first job: 0 or 1
    source: str  # where it is documented


#: The CI systems that number their parallel jobs themselves.
CI_ENV: tuple[CiShardVariables, ...] = (
    CiShardVariables(
        "GitLab CI", "CI_NODE_INDEX", "CI_NODE_TOTAL", 1,
        "https://docs.gitlab.com/ci/variables/predefined_variables/",
    ),
    CiShardVariables(
        "Buildkite", "BUILDKITE_PARALLEL_JOB", "BUILDKITE_PARALLEL_JOB_COUNT", 0,
        "https://buildkite.com/docs/pipelines/configure/environment-variables",
    ),
    CiShardVariables(
        "CircleCI", "CIRCLE_NODE_INDEX", "CIRCLE_NODE_TOTAL", 0,
        "https://circleci.com/docs/reference/variables/",
    ),
)  # fmt: skip


def parse_shard(text: str, source: str = "--shard") -> Shard:
    """`I/N` (1 <= I <= N) as a `Shard`; a `UsageError` saying what is wrong otherwise."""
    match = _SHARD.fullmatch(text)
    if not match:
        raise UsageError(
            f"{source} {text!r} is not I/N",
            hint="give the shard's number and the number of shards, e.g. --shard 2/4",
        )
    index, total = int(match.group(1)), int(match.group(2))
    if total < 1 or not 1 <= index <= total:
        raise UsageError(
            f"{source} {text}: the shard's number must be from 1 to {max(total, 1)}",
            hint="shards are numbered 1/N to N/N",
        )
    return Shard(index, total, source)


def shard_from_env(env: Mapping[str, str] | None = None) -> Shard | None:
    """The shard the CI's own variables name (`CI_ENV`), or None outside such a job."""
    env = os.environ if env is None else env
    for ci in CI_ENV:
        index, total = env.get(ci.index, "").strip(), env.get(ci.total, "").strip()
        if not index or not total:
            continue
        source = f"{ci.index}/{ci.total} ({ci.ci})"
        if not (index.isdigit() and total.isdigit()):
            raise UsageError(
                f"{source} are {index!r}/{total!r}, not numbers",
                hint="pass --shard I/N to say which shard this job runs",
            )
        return parse_shard(f"{int(index) - ci.first + 1}/{total}", source)
    return None


def choose_shard(option: str | None, env: Mapping[str, str] | None = None) -> Shard | None:
    """`--shard I/N` when given (it wins), else the CI's variables, else None (the whole suite)."""
    return parse_shard(option) if option else shard_from_env(env)


def split(
    names: Iterable[str], total: int, durations: Mapping[str, float] | None = None
) -> list[list[str]]:
    """The suite `names` in `total` shards (index 0 is shard 1/N), each shard's names sorted."""
    ordered = sorted(set(names))
    if not durations:
        return [ordered[i::total] for i in range(total)]
    known = [durations[n] for n in ordered if n in durations]
    typical = statistics.median(known) if known else 1.0
    cost = {name: durations.get(name, typical) for name in ordered}
    bins: list[list[str]] = [[] for _ in range(total)]
    loads = [0.0] * total
    for name in sorted(ordered, key=lambda n: (-cost[n], n)):
        target = min(range(total), key=lambda i: (loads[i], i))
        bins[target].append(name)
        loads[target] += cost[name]
    return [sorted(names) for names in bins]


def select(
    names: Iterable[str], shard: Shard | None, durations: Mapping[str, float] | None = None
) -> list[str]:
    """The names shard `shard` runs (all of them, sorted, when `shard` is None)."""
    if shard is None:
        return sorted(set(names))
    return split(names, shard.total, durations)[shard.index - 1]


# -- the durations file -------------------------------------------------------------------------


def read_durations(path: Path) -> dict[str, float]:
    """name -> seconds from a durations file; {} when it does not exist yet (a first run)."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigurationError(
            f"cannot read the durations file {path}: {error}",
            hint="give a file written by `scenarios run --durations`, or a path that does not "
            "exist yet",
        ) from None
    try:
        data = json.loads(text) if text.strip() else {}
    except ValueError as error:
        raise ConfigurationError(
            f"the durations file {path} is not JSON ({error.args[0][:80]})",
            hint="delete it: the next run writes it again",
        ) from None
    entries = data.get("durations", data) if isinstance(data, dict) else None
    if not isinstance(entries, dict) or not all(
        isinstance(k, str) and isinstance(v, (int, float)) and not isinstance(v, bool) and v >= 0
        for k, v in entries.items()
    ):
        raise ConfigurationError(
            f"the durations file {path} is not an object of scenario name -> seconds",
            hint="delete it: the next run writes it again",
        )
    return {name: float(seconds) for name, seconds in entries.items()}


def write_durations(path: Path, measured: Mapping[str, float]) -> dict[str, float]:
    """Merge `measured` into the durations file at `path` (new values win); the merged map."""
    merged = {**read_durations(path), **{k: round(v, 2) for k, v in measured.items()}}
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps({"durations": dict(sorted(merged.items()))}, indent=2) + "\n"
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_text(text, encoding="utf-8")
    temporary.replace(path)  # a shard killed mid-write leaves the old file, not half a new one
    return merged


#: The test suite properties a shard's JUnit report carries (`shard_properties`).
SHARD_PROPERTY = "render-sim.shard"  # "2/4"
SPLIT_PROPERTY = "render-sim.split"  # which split: the suite's names and the durations used
SUITE_PROPERTY = "render-sim.suite"  # how many scenarios the whole suite has


def split_id(names: Iterable[str], durations: Mapping[str, float] | None = None) -> str:
    """A short hash of what decides the split: the suite's names and the durations read.

    Shards whose ids differ did not split the same suite the same way (another scenario
    folder, another durations file): together they may miss scenarios or run some twice."""
    ordered = sorted(set(names))
    used = {n: durations[n] for n in ordered if n in durations} if durations else {}
    text = json.dumps([ordered, used], sort_keys=True)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]


def shard_properties(
    shard: Shard | None, suite: Sequence[str], durations: Mapping[str, float] | None = None
) -> dict[str, str]:
    """The properties of a shard's JUnit report ({} for an unsharded run)."""
    if shard is None:
        return {}
    return {
        SHARD_PROPERTY: str(shard),
        SPLIT_PROPERTY: split_id(suite, durations),
        SUITE_PROPERTY: str(len(set(suite))),
    }


def shard_summary(names: Sequence[object], shard: Shard | None, suite: int) -> str:
    """`shard 2/4 (from --shard): 13 of 50 scenarios`, for the run's first line."""
    if shard is None:
        return f"{suite} scenario(s)"
    return f"shard {shard} (from {shard.source}): {len(names)} of {suite} scenario(s)"
