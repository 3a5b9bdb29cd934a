"""Regression scenarios: small Render services with the outcome their build must have.

`scenarios/<name>/` holds the files of a service (render.yaml, requirements.txt, ...) and one
manifest, `scenario.yaml`: how to simulate it (`options`, the same settings as `simulate`'s
command line), on which network, and what must come out (`expect`). This module reads and
checks manifests and finds scenarios on disk; `scenario_run` runs them.

A manifest is checked whole before anything runs: an unknown key, a wrong type or an
expectation that cannot happen is a `ScenarioError` naming the file, the line and the field
(`scenarios/x/scenario.yaml:7: expect.class`) with the fix, never a scenario that can never pass.
"""

from __future__ import annotations

import difflib
import fnmatch
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from simulator.build.simulation import BuildResult
from simulator.check.actions import ACTION_KINDS
from simulator.diagnose.diagnosis import (
    FAILURE_CLASSES,
    UNKNOWN,
    BuildCommand,
    Pin,
    PythonVersionFile,
)
from simulator.diagnose.diagnosis import SetEnv as SetEnvAction
from simulator.errors import Location, ScenarioError, UsageError
from simulator.plan.build_plan import Options
from simulator.scenarios.verify import VerifyExpectation, read_verify
from simulator.units import parse_bytes, parse_date, parse_seconds

MANIFEST = "scenario.yaml"
DEFAULT_DIR = Path("scenarios")
NETWORKS = ("internet", "none", "fixtures")
KINDS = ("hermetic", "online")
OUTCOMES = BuildResult.OUTCOMES
CLASSES = (*FAILURE_CLASSES, UNKNOWN)
FIX_KINDS = (
    *(a.kind for a in (SetEnvAction, PythonVersionFile, Pin, BuildCommand)),
    *ACTION_KINDS,
)
FIX_KEYS = ("kind", "key", "value", "package", "specifier")

TOP_KEYS = ("description", "network", "options", "expect")
OPTION_KEYS = (
    "service",
    "created",
    "python",
    "build_command",
    "memory",
    "cpus",
    "timeout",
    "idle_timeout",
    "env",
    "tmp_size",
)
EXPECT_KEYS = (
    "outcome", "class", "package", "exit_code", "log", "not_log", "warnings", "fix", "verify",
)  # fmt: skip
# What only a diagnosis gives: it exists only for builds that did not succeed.
DIAGNOSIS_KEYS = ("class", "package", "fix", "verify")
EXAMPLE = "expect: {outcome: failed, class: rust-readonly-cargo}"


@dataclass(frozen=True)
class Expectation:
    """What a scenario's build must show; None / () means "not checked"."""

    outcome: str
    failure_class: str | None = None
    package: str | None = None
    exit_code: int | None = None
    log: tuple[str, ...] = ()
    not_log: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    fix: Mapping[str, str] | None = None
    verify: VerifyExpectation | None = None  # what --verify-fix must do (scenario_verify)

    def summary(self) -> str:
        """`failed/rust-readonly-cargo` (outcome, and the class when one is expected)."""
        return f"{self.outcome}/{self.failure_class}" if self.failure_class else self.outcome

    def to_dict(self) -> dict[str, Any]:
        return {
            "outcome": self.outcome,
            "class": self.failure_class,
            "package": self.package,
            "exit_code": self.exit_code,
            "log": list(self.log),
            "not_log": list(self.not_log),
            "warnings": list(self.warnings),
            "fix": dict(self.fix) if self.fix is not None else None,
            "verify": self.verify.to_dict() if self.verify is not None else None,
        }


@dataclass(frozen=True)
class Scenario:
    """One scenario folder, its manifest read and checked."""

    name: str
    path: Path  # the folder
    description: str
    network: str  # one of NETWORKS
    options: Options
    expect: Expectation
    tmp_size: int | None = None  # bytes: /tmp becomes a tmpfs this small (a full disk)

    @property
    def volume_options(self) -> dict[str, dict[str, str]]:
        """The build's volume options (engine.BuildContainer) for `tmp_size`."""
        if self.tmp_size is None:
            return {}
        return {"/tmp": {"type": "tmpfs", "device": "tmpfs", "o": f"size={self.tmp_size}"}}

    @property
    def hermetic(self) -> bool:
        """True when the build reaches no internet (`network: none` or `fixtures`)."""
        return self.network != "internet"

    @property
    def kind(self) -> str:
        return "hermetic" if self.hermetic else "online"

    @property
    def manifest(self) -> Path:
        return self.path / MANIFEST

    def to_dict(self) -> dict[str, Any]:
        options = self.options
        return {
            "name": self.name,
            "path": str(self.path),
            "description": self.description,
            "kind": self.kind,
            "network": self.network,
            "options": {
                "service": options.service,
                "created": options.created.isoformat() if options.created else None,
                "python": options.python,
                "build_command": options.build_command,
                "memory_bytes": options.memory_bytes,
                "cpus": options.cpus,
                "timeout_s": options.timeout_s,
                "idle_timeout_s": options.idle_timeout_s,
                "env": sorted(options.env),  # names only: values stay in the manifest
                "tmp_size": self.tmp_size,
            },
            "expect": self.expect.to_dict(),
        }


# -- reading one manifest -----------------------------------------------------------------------


class _Reader:
    """Reads the YAML nodes of one manifest; every error names the file, line and field."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.shown = str(path)

    def fail(self, message: str, node: Node | None, fld: str, hint: str) -> ScenarioError:
        line = node.start_mark.line + 1 if node is not None else 0
        return ScenarioError(message, hint=hint, where=Location(self.shown, line, fld))

    def parse(self, text: str) -> Node | None:
        loader = yaml.SafeLoader(text)
        try:
            return loader.get_single_node()
        except yaml.MarkedYAMLError as error:
            problem = ": ".join(p for p in (error.context, error.problem) if p) or "invalid YAML"
            mark = error.problem_mark or error.context_mark
            raise ScenarioError(
                f"YAML syntax error: {problem}",
                hint="fix the YAML (indent nested keys with spaces; quote values holding ': ' or '#')",
                where=Location(self.shown, mark.line + 1 if mark else 0),
            ) from None
        except yaml.YAMLError as error:
            raise ScenarioError(
                f"YAML syntax error: {error}",
                hint="a manifest is UTF-8 text in YAML",
                where=Location(self.shown),
            ) from None
        finally:
            loader.dispose()

    def mapping(
        self, node: Node, fld: str, known: Sequence[str] | None
    ) -> dict[str, tuple[Node, Node]]:
        """A mapping's entries by key (key node, value node); unknown or repeated keys fail."""
        if not isinstance(node, MappingNode):
            raise self.fail(
                f"must be a mapping of keys to values, not {_kind(node)}",
                node,
                fld,
                hint=f"write `{fld.rsplit('.', 1)[-1] or 'key'}:` followed by indented `key: value` lines"
                if fld
                else f"a manifest is a mapping with {', '.join(TOP_KEYS)}",
            )
        entries: dict[str, tuple[Node, Node]] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, ScalarNode):
                raise self.fail(
                    "a key must be a plain word", key_node, fld, hint="write `key: value`"
                )
            key = key_node.value
            name = f"{fld}.{key}" if fld else key
            if key in entries:
                first = entries[key][0].start_mark.line + 1
                raise self.fail(
                    f"{key!r} is given twice (first on line {first})",
                    key_node,
                    name,
                    hint="keep one of them",
                )
            if known is not None and key not in known:
                close = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
                guess = f"did you mean {close[0]!r}? " if close else ""
                raise self.fail(
                    f"unknown key {key!r}",
                    key_node,
                    name,
                    hint=f"{guess}known keys here: {', '.join(known)}",
                )
            entries[key] = (key_node, value_node)
        return entries

    def text(self, node: Node, fld: str, example: str) -> str:
        """A scalar as written (`python: 3.10` stays "3.10", not the number 3.1)."""
        if not isinstance(node, ScalarNode) or node.tag == "tag:yaml.org,2002:null":
            raise self.fail(
                f"must be a single value, not {_kind(node)}",
                node,
                fld,
                hint=f"write it like `{example}`",
            )
        return str(node.value)

    def choice(self, node: Node, fld: str, choices: Sequence[str], what: str = "") -> str:
        value = self.text(node, fld, f"{fld.rsplit('.', 1)[-1]}: {choices[0]}")
        if value not in choices:
            close = difflib.get_close_matches(value, choices, n=1, cutoff=0.6)
            guess = f"did you mean {close[0]!r}? " if close else ""
            raise self.fail(
                f"{value!r} is not {what}"
                if what
                else f"{value!r} is not one of {', '.join(choices)}",
                node,
                fld,
                hint=f"{guess}use one of: {', '.join(choices)}",
            )
        return value

    def integer(self, node: Node, fld: str) -> int:
        value = self.value(node)
        if not isinstance(value, int) or isinstance(value, bool):
            raise self.fail(
                f"must be a whole number, not {_kind(node)}",
                node,
                fld,
                hint=f"write it like `{fld.rsplit('.', 1)[-1]}: 1`",
            )
        return value

    def number(self, node: Node, fld: str) -> float:
        value = self.value(node)
        if not isinstance(value, (int, float)) or isinstance(value, bool) or value <= 0:
            raise self.fail(
                f"must be a number above 0, not {_kind(node)}",
                node,
                fld,
                hint=f"write it like `{fld.rsplit('.', 1)[-1]}: 2`",
            )
        return float(value)

    def strings(self, node: Node, fld: str) -> tuple[str, ...]:
        if not isinstance(node, SequenceNode):
            raise self.fail(
                f"must be a list of texts, not {_kind(node)}",
                node,
                fld,
                hint=f'write it like `{fld.rsplit(".", 1)[-1]}: ["first text", "second text"]`',
            )
        out = []
        for i, item in enumerate(node.value):
            value = self.text(item, f"{fld}[{i}]", "- some text")
            if not value:
                raise self.fail(
                    "is empty (an empty text is found in every log)",
                    item,
                    f"{fld}[{i}]",
                    hint="remove it, or write the text that must be there",
                )
            out.append(value)
        return tuple(out)

    def value(self, node: Node) -> Any:
        loader = yaml.SafeLoader("")
        try:
            return loader.construct_object(node, deep=True)
        except yaml.MarkedYAMLError as error:
            raise self.fail(
                f"cannot be read: {error.problem}", node, "", hint="check the value"
            ) from None
        finally:
            loader.dispose()

    def unit(self, node: Node, fld: str, parse: Any) -> Any:
        """A size, duration or date, read as on the command line (`512m`, `30s`, `2026-03-01`)."""
        text = self.text(node, fld, f"{fld.rsplit('.', 1)[-1]}: ...")
        try:
            return parse(text)
        except UsageError as error:
            raise self.fail(error.message, node, fld, hint=error.hint or "") from None


def _kind(node: Node) -> str:
    if isinstance(node, MappingNode):
        return "a mapping"
    if isinstance(node, SequenceNode):
        return "a list"
    if node.tag == "tag:yaml.org,2002:null":
        return "empty"
    return f"{node.value!r}"


def load_scenario(path: Path) -> Scenario:
    """Read and check the scenario in folder `path` (or its `scenario.yaml`)."""
    folder = path.parent if path.name == MANIFEST else path
    manifest = folder / MANIFEST
    if not manifest.is_file():
        raise ScenarioError(
            f"scenario folder {folder} has no {MANIFEST}",
            hint=f"add {manifest} with at least `{EXAMPLE}`",
        )
    reader = _Reader(manifest)
    try:
        text = manifest.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise ScenarioError(
            f"cannot read {manifest}: {error}", hint="a manifest is a UTF-8 text file"
        ) from None
    root = reader.parse(text)
    if root is None:
        raise ScenarioError(
            "the manifest is empty",
            hint=f"write at least `{EXAMPLE}`",
            where=Location(str(manifest)),
        )
    top = reader.mapping(root, "", TOP_KEYS)
    description = ""
    if "description" in top:
        description = reader.text(
            top["description"][1], "description", "description: what it shows"
        )
    network = "internet"
    if "network" in top:
        network = reader.choice(top["network"][1], "network", NETWORKS)
    options, tmp_size = _options(reader, top["options"][1] if "options" in top else None, network)
    if "expect" not in top:
        raise ScenarioError(
            "no `expect`: a scenario must say at least which outcome its build has",
            hint=f"add `{EXAMPLE}` (outcome: {' | '.join(OUTCOMES)})",
            where=Location(str(manifest)),
        )
    expect = _expectation(reader, top["expect"][1])
    return Scenario(
        name=folder.name,
        path=folder,
        description=description,
        network=network,
        options=options,
        expect=expect,
        tmp_size=tmp_size,
    )


def _options(reader: _Reader, node: Node | None, network: str) -> tuple[Options, int | None]:
    """The build's options, and `tmp_size` (which is the scenario's, not simulate's)."""
    values: dict[str, Any] = {}
    tmp_size: int | None = None
    if node is not None and not (
        isinstance(node, ScalarNode) and node.tag == "tag:yaml.org,2002:null"
    ):
        entries = reader.mapping(node, "options", OPTION_KEYS)
        for key, (_, value) in entries.items():
            fld = f"options.{key}"
            if key in ("service", "python", "build_command"):
                values[key] = reader.text(value, fld, f"{key}: ...")
            elif key == "created":
                values[key] = reader.unit(value, fld, lambda t: parse_date(t, "created"))
            elif key == "memory":
                values["memory_bytes"] = reader.unit(value, fld, lambda t: parse_bytes(t, "memory"))
            elif key == "tmp_size":
                tmp_size = reader.unit(value, fld, lambda t: parse_bytes(t, "tmp_size"))
            elif key == "cpus":
                values[key] = reader.number(value, fld)
            elif key in ("timeout", "idle_timeout"):
                seconds = reader.unit(value, fld, lambda t, k=key: parse_seconds(t, k))
                if key == "timeout" and seconds <= 0:
                    raise reader.fail(
                        "must be above 0", value, fld, hint="write it like `timeout: 30m`"
                    )
                values[f"{key}_s"] = seconds
            elif key == "env":
                env = reader.mapping(value, fld, None)
                values["env"] = {
                    name: reader.text(v, f"{fld}.{name}", f"{name}: value")
                    for name, (_, v) in env.items()
                }
    return Options(
        **values,
        # fixtures: no network until the runner is given the fixture network to join
        network={"internet": "", "none": "none", "fixtures": "none"}[network],
        probe_network=network == "internet",
        build_cache=False,  # every scenario run is a first deploy
    ), tmp_size


def _expectation(reader: _Reader, node: Node) -> Expectation:
    entries = reader.mapping(node, "expect", EXPECT_KEYS)
    if "outcome" not in entries:
        raise reader.fail(
            "no `outcome`",
            node,
            "expect",
            hint=f"add `outcome:` ({' | '.join(OUTCOMES)})",
        )
    outcome = reader.choice(entries["outcome"][1], "expect.outcome", OUTCOMES)
    if outcome == "succeeded":
        for key in DIAGNOSIS_KEYS:
            if key in entries:
                raise reader.fail(
                    f"`{key}` is given for outcome succeeded: only a failed build has a diagnosis",
                    entries[key][0],
                    f"expect.{key}",
                    hint=f"remove `{key}`, or expect the outcome the build really has",
                )
    values: dict[str, Any] = {"outcome": outcome}
    if "class" in entries:
        values["failure_class"] = reader.choice(
            entries["class"][1], "expect.class", CLASSES, "a failure class of the diagnosis"
        )
    if "package" in entries:
        values["package"] = reader.text(entries["package"][1], "expect.package", "package: name")
    if "exit_code" in entries:
        code = reader.integer(entries["exit_code"][1], "expect.exit_code")
        if (outcome == "succeeded") != (code == 0):
            raise reader.fail(
                f"exit code {code} cannot go with outcome {outcome}",
                entries["exit_code"][1],
                "expect.exit_code",
                hint="a build succeeds exactly when its command exits 0",
            )
        values["exit_code"] = code
    for key in ("log", "not_log", "warnings"):
        if key in entries:
            values[key] = reader.strings(entries[key][1], f"expect.{key}")
    if "fix" in entries:
        values["fix"] = _fix(reader, entries["fix"][1])
    if "verify" in entries:
        values["verify"] = read_verify(reader, entries["verify"][1])
    return Expectation(**values)


def _fix(reader: _Reader, node: Node) -> dict[str, str]:
    entries = reader.mapping(node, "expect.fix", FIX_KEYS)
    fix = {
        key: reader.text(value, f"expect.fix.{key}", f"{key}: ...")
        for key, (_, value) in entries.items()
    }
    if "kind" in entries:
        reader.choice(entries["kind"][1], "expect.fix.kind", FIX_KINDS)
    if not fix:
        raise reader.fail(
            "is empty",
            node,
            "expect.fix",
            hint="give the keys the top fix's action must have, e.g. {kind: set-env, key: PYTHON_VERSION}",
        )
    return fix


# -- finding scenarios --------------------------------------------------------------------------


def discover(
    dirs: Sequence[Path], names: Sequence[str] = (), kind: str | None = None
) -> list[Scenario]:
    """The scenarios under `dirs` (folders holding a scenario.yaml), checked, sorted by name.

    `names` picks some (exact names or shell patterns such as `rust-*`); `kind` keeps only
    "hermetic" or "online" ones. A name that matches nothing, a named folder without a
    manifest and one name in two directories are errors, never an empty run.
    """
    if kind is not None and kind not in KINDS:
        raise UsageError(f"--kind {kind!r} is not one of {', '.join(KINDS)}")
    if not dirs:
        raise UsageError("no scenario directory given", hint="pass --dir DIR")
    found: dict[str, Path] = {}
    bare: dict[str, Path] = {}  # folders without a manifest
    for directory in dirs:
        if not directory.is_dir():
            raise ScenarioError(
                f"scenario directory {directory} does not exist",
                hint="pass --dir DIR: a folder of scenario folders, each with a scenario.yaml",
            )
        if (directory / MANIFEST).is_file():
            folders = [directory]  # the directory is one scenario itself
        else:
            folders = sorted(
                p for p in directory.iterdir() if p.is_dir() and not p.name.startswith((".", "_"))
            )
        for folder in folders:
            name = folder.name
            if not (folder / MANIFEST).is_file():
                bare.setdefault(name, folder)
                continue
            if name in found and found[name].resolve() != folder.resolve():
                raise ScenarioError(
                    f"two scenarios are named {name!r}: {found[name] / MANIFEST} and "
                    f"{folder / MANIFEST}",
                    hint="a scenario's name is its folder's name: rename one of the folders",
                )
            found[name] = folder
    chosen = _select(found, bare, names, dirs)
    scenarios = [load_scenario(found[name]) for name in chosen]
    return [s for s in scenarios if kind is None or s.kind == kind]


def _select(
    found: Mapping[str, Path], bare: Mapping[str, Path], names: Sequence[str], dirs: Sequence[Path]
) -> list[str]:
    if not names:
        return sorted(found)
    chosen: list[str] = []
    where = ", ".join(str(d) for d in dirs)
    for name in names:
        if name in found:
            matches = [name]
        elif name in bare:
            raise ScenarioError(
                f"scenario folder {bare[name]} has no {MANIFEST}",
                hint=f"add {bare[name] / MANIFEST} with at least `{EXAMPLE}`",
            )
        elif any(c in name for c in "*?["):
            matches = sorted(n for n in found if fnmatch.fnmatchcase(n, name))
            if not matches:
                raise ScenarioError(
                    f"no scenario matches {name!r} in {where}",
                    hint=f"scenarios there: {', '.join(sorted(found)) or 'none'}",
                )
        else:
            close = difflib.get_close_matches(name, list(found), n=1, cutoff=0.6)
            guess = f"did you mean {close[0]!r}? " if close else ""
            raise ScenarioError(
                f"no scenario named {name!r} in {where}",
                hint=f"{guess}scenarios there: {', '.join(sorted(found)) or 'none'}",
            )
        chosen += [m for m in matches if m not in chosen]
    return chosen
