"""Regression scenarios: small Render services with the outcome their build must have.

`scenarios/<name>/` holds the files of a service (render.yaml, requirements.txt, ...) and one
manifest, `scenario.yaml`: how to simulate it (`options`, the same settings as `simulate`'s
command line), on which network, and what must come out (`expect`). This module reads and
checks manifests (with `scenarios.reader`); `scenarios.discovery` finds them on disk and
`scenarios.run` runs them.

A manifest is checked whole before anything runs: an unknown key, a wrong type or an
expectation that cannot happen is a `ScenarioError` naming the file, the line and the field
(`scenarios/x/scenario.yaml:7: expect.class`) with the fix, never a scenario that can never pass.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from yaml.nodes import Node, ScalarNode

from simulator.build.simulation import BuildResult
from simulator.diagnose.actions import ACTION_KINDS
from simulator.diagnose.diagnosis import (
    FAILURE_CLASSES,
    UNKNOWN,
    BuildCommand,
    Pin,
    PythonVersionFile,
)
from simulator.diagnose.diagnosis import SetEnv as SetEnvAction
from simulator.errors import Location, ScenarioError
from simulator.plan.models import Options
from simulator.scenarios.reader import TOP_KEYS, ManifestReader
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
        """The build's volume options (container.BuildContainer) for `tmp_size`."""
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


def load_scenario(path: Path) -> Scenario:
    """Read and check the scenario in folder `path` (or its `scenario.yaml`)."""
    folder = path.parent if path.name == MANIFEST else path
    manifest = folder / MANIFEST
    if not manifest.is_file():
        raise ScenarioError(
            f"scenario folder {folder} has no {MANIFEST}",
            hint=f"add {manifest} with at least `{EXAMPLE}`",
        )
    reader = ManifestReader(manifest)
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


def _options(reader: ManifestReader, node: Node | None, network: str) -> tuple[Options, int | None]:
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


def _expectation(reader: ManifestReader, node: Node) -> Expectation:
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


def _fix(reader: ManifestReader, node: Node) -> dict[str, str]:
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
