"""What a fix is made from: the diagnosis's fields, the culprit, the index, Render's Pythons.

`FixInputs` is what every fix generator (`diagnose.fix_generators`) and every static template
reads; `static_fix` fills a template that computes nothing.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from simulator.diagnose.conflict import Conflict
from simulator.diagnose.culprit import Culprit
from simulator.diagnose.diagnosis import (
    BuildCommand,
    DiagnosisContext,
    Fix,
    FixAction,
    PackageRef,
    Pin,
    PythonInfo,
    PythonVersionFile,
    SetEnv,
)
from simulator.diagnose.rules import Catalogue, FixTemplate, render_template
from simulator.diagnose.scan import Hit, ScannedLog
from simulator.index.client import PackageIndex
from simulator.render.target import RENDER_PYTHON_MINORS

PYTORCH_PACKAGES = frozenset({"torch", "torchvision", "torchaudio"})


NO_WHEEL_CLASS = "no-wheel-python-too-new"  # the rule whose fixes `no_wheel_fixes` gives


PURE_WHEEL = "a pure-Python wheel (py3-none-any)"


def minor_key(minor: str) -> tuple[int, int]:
    major, _, rest = minor.partition(".")
    return int(major), int(rest.split(".")[0])


@dataclass
class FixInputs:
    """Everything a fix generator may use."""

    catalogue: Catalogue
    log: ScannedLog
    fields: dict[str, str]
    package: PackageRef | None
    python: PythonInfo | None
    context: DiagnosisContext
    index: PackageIndex | None
    culprit: Culprit | None
    conflict: Conflict | None
    decisive: Hit | None = None  # the rule's decisive line; None without a build log

    def text(self, generator: str, variant: str, **extra: str) -> str:
        fields = {**self.fields, **extra}
        template = fill_gaps(self.catalogue.generators[generator][variant], fields)
        if fields.get("wheel_kind") == "pure":
            # a py3-none-any wheel is no "cp314 manylinux wheel": it installs on every Python
            for tag in ("{cp_tag}", "{target_cp_tag}"):
                template = template.replace(f"{tag} manylinux wheels", PURE_WHEEL)
        return render_template(template, fields)

    def check_note(self) -> str:
        if self.index is None:
            return self.text("check-notes", "no-index")
        return self.text("check-notes", "offline")

    def build_minor(self) -> str | None:
        """The build's Python as "3.14", when the log or the plan shows it."""
        minor = self.python.minor if self.python else None
        return f"{minor[0]}.{minor[1]}" if minor else None

    def render_minors(self) -> list[str]:
        """Minor versions Render offers, newest first (the context's mapping when given)."""
        minors = list(self.context.render_versions) or list(RENDER_PYTHON_MINORS)
        valid = [m for m in minors if re.fullmatch(r"3\.\d+", m)]
        return sorted(valid, key=minor_key, reverse=True)

    def python_choice(
        self, target: str, runtime_note: bool = True
    ) -> tuple[FixAction | None, dict[str, str]]:
        """How to pin Python `target` ("3.12") on Render, and the fields describing it."""
        full = self.context.render_versions.get(target)
        env_set = self.python is not None and self.python.selected_by == "PYTHON_VERSION"
        fields = {
            "target_python": target,
            "target_python_full": full or f"{target}.x",
            "target_cp_tag": "cp" + target.replace(".", ""),
            "runtime_note": (
                self.text("older-python", "runtime-note")
                if runtime_note and self.context.runtime_txt_exists
                else ""
            ),
        }
        action: FixAction | None
        if full:
            action = SetEnv("PYTHON_VERSION", full)
            fields["pin_how"] = self.text("older-python", "pin-env", **fields)
        elif env_set:
            action = None  # PYTHON_VERSION must be a full version, which render-sim does not know
            fields["pin_how"] = self.text("older-python", "pin-file-env-set", **fields)
        else:
            action = PythonVersionFile(target)
            fields["pin_how"] = self.text("older-python", "pin-file", **fields)
        return action, fields


#: Phrases of the catalogue's texts that need a field, and what they read as without it.
_GAPS = {"python_minor": (("Python {python_minor}", "{python_label}"),)}


def fill_gaps(template: str, fields: Mapping[str, str]) -> str:
    """`template` with its phrases around an empty field reworded, so no text reads "for
    Python  (or" when the log shows no Python."""
    for name, phrases in _GAPS.items():
        if not fields.get(name):
            for phrase, instead in phrases:
                template = template.replace(phrase, instead)
    return template


def static_fix(inputs: FixInputs, template: FixTemplate, action: FixAction | None = None) -> Fix:
    if action is None and template.action:
        values = {k: render_template(v, inputs.fields) for k, v in template.action.items()}
        kind = values.pop("kind")
        action = {
            "set-env": lambda: SetEnv(values["key"], values["value"]),
            "python-version-file": lambda: PythonVersionFile(values["value"]),
            "pin": lambda: Pin(values["package"], values["specifier"]),
            "build-command": lambda: BuildCommand(values["value"]),
        }[kind]()
    return Fix(
        render_template(fill_gaps(template.title or "", inputs.fields), inputs.fields),
        render_template(fill_gaps(template.detail or "", inputs.fields), inputs.fields),
        action,
        False,
    )
