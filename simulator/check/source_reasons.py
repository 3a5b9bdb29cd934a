"""Why a release would be built from source, and the fixes that avoid it.

`explain_files` reads a release's file names (sdist only, wheels up to an older Python, musllinux
only, a newer glibc, other platforms) into a reason and a sentence; `FixMaker` gives the fixes
`render-sim explain` would give for the same package (`simulator.diagnose.fixes.no_wheel_fixes`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from packaging.utils import InvalidWheelFilename, canonicalize_name, parse_wheel_filename
from packaging.version import InvalidVersion

from simulator.diagnose.catalogue import load_rules
from simulator.diagnose.diagnosis import DiagnosisContext, Fix, PackageRef, PythonInfo
from simulator.diagnose.fixes import no_wheel_fixes
from simulator.index.client import PackageIndex
from simulator.index.wheels import wheel_installs_on
from simulator.render.target import Target


def _minor_key(minor: str) -> tuple[int, int]:
    major, rest = minor.split(".")[:2]
    return int(major), int(rest)


def explain_files(
    name: str, version: str, files: Sequence[str], target: Target, kind: str = "unknown"
) -> tuple[str, str, tuple[str, ...]]:
    """(reason, sentence, Python minors with wheels) for a release without a usable wheel.

    `kind` is what its sdist holds ("pure", "compiled", "unknown"): a pure-Python sdist is
    built in seconds on any Python, so its sentence says so instead of blaming the Python."""
    label = f"{name} {version}"
    wheels = [f for f in files if f.endswith(".whl")]
    minors = [f"3.{m}" for m in range(30, 5, -1)]
    with_wheels = tuple(
        m for m in minors if any(wheel_installs_on(w, m, target.glibc) for w in wheels)
    )
    if not wheels:
        if kind == "pure":
            return (
                "sdist-only",
                f"{label} publishes only a source distribution, of pure Python: pip builds it "
                "in seconds, with nothing to compile (harmless on Render)",
                with_wheels,
            )
        what = " with code to compile" if kind == "compiled" else ""
        return (
            "sdist-only",
            f"{label} publishes only a source distribution{what}: pip builds it on every Python",
            with_wheels,
        )
    newer_glibc = [w for w in wheels if wheel_installs_on(w, target.minor, (2, 99))]
    if newer_glibc:
        needed = sorted(
            {int(m[1]) for w in newer_glibc for m in re.finditer(r"manylinux_2_(\d+)_x86_64", w)}
        )
        detail = f"glibc 2.{needed[0]}" if needed else "a newer glibc"
        return (
            "glibc-too-new",
            f"{label} has {target.cp_tag} wheels, but they need {detail}; Render's Debian 12 "
            f"has glibc 2.{target.glibc[1]}",
            with_wheels,
        )
    older = [m for m in with_wheels if _minor_key(m) < target.minor]
    if older and not any(_minor_key(m) > target.minor for m in with_wheels):
        return (
            "older-pythons",
            f"{label} has Linux wheels up to Python {older[0]} ({_cp(older[0])}) and none for "
            f"{target.cp_tag}: a release made before Python {target.series} existed",
            with_wheels,
        )
    musl = [w for w in wheels if "musllinux" in w and _wheel_fits_python(w, target)]
    if musl:
        return (
            "musllinux-only",
            f"{label}'s {target.cp_tag} Linux wheels are musllinux (Alpine) only; Render runs "
            "glibc Linux",
            with_wheels,
        )
    linux = [w for w in wheels if "linux" in w and "x86_64" in w]
    if not linux and not any("-any.whl" in w for w in wheels):
        return (
            "other-platforms",
            f"{label} has wheels only for other platforms (macOS, Windows or ARM), none for "
            "Linux x86_64",
            with_wheels,
        )
    if with_wheels:
        listed = ", ".join(with_wheels[:4]) + (", ..." if len(with_wheels) > 4 else "")
        sentence = f"{label} has no {target.cp_tag} wheel (Linux wheels for Python {listed})"
    else:
        sentence = f"{label} has no wheel that installs on {target.cp_tag} Linux x86_64"
    return "no-wheel-for-python", sentence, with_wheels


def _cp(minor: str) -> str:
    return "cp" + minor.replace(".", "")


def _wheel_fits_python(filename: str, target: Target) -> bool:
    try:
        tags = parse_wheel_filename(filename)[3]
    except (InvalidWheelFilename, InvalidVersion):
        return False
    return any(tag.interpreter in (target.cp_tag, "py3") for tag in tags)


@dataclass
class FixMaker:
    """Builds the fixes for a package without a wheel with the classifier's own generators."""

    context: DiagnosisContext
    python: PythonInfo
    index: PackageIndex | None

    def fixes(
        self, name: str, version: str | None, parent: str | None, direct: bool
    ) -> tuple[Fix, ...]:
        if version is None:
            return ()
        return tuple(
            no_wheel_fixes(
                PackageRef(name, version),
                self.python,
                self.context,
                self.index,
                parent=parent,
                direct=direct,
            )
        )


def parent_for_fix(name: str, parents: Sequence[str]) -> str | None:
    """The parent the upgrade fix should name: the catalogue's known parent first."""
    if not parents:
        return None
    known = load_rules().parents.get(canonicalize_name(name))
    if known:
        for parent in parents:
            if canonicalize_name(parent.split("==", 1)[0]) == canonicalize_name(known):
                return parent
    return parents[0]


def display(parent: str) -> str:
    return parent.replace("==", " ")
