"""The interpreter and platform of Render's Python build, as pip and PEP 508 markers see them.

`Target` is CPython X.Y.Z on Linux x86_64 with glibc 2.36 (Debian 12 bookworm): its tags, its
platform list for pip, its marker environment, and whether a marker or Requires-Python holds.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from packaging.markers import InvalidMarker, Marker, UndefinedComparison, UndefinedEnvironmentName
from packaging.specifiers import InvalidSpecifier, SpecifierSet

#: Render's native runtime is Debian 12 bookworm (render-facts.md 2.1), which ships glibc 2.36.
RENDER_GLIBC: tuple[int, int] = (2, 36)


#: CPython minors Render can install (it accepts any release from 3.7.3 on), newest first.
RENDER_PYTHON_MINORS: tuple[str, ...] = (
    "3.14", "3.13", "3.12", "3.11", "3.10", "3.9", "3.8", "3.7",
)  # fmt: skip


@dataclass(frozen=True)
class Target:
    """The interpreter and platform of Render's build: CPython X.Y.Z, Linux x86_64, glibc 2.36."""

    version: str  # "3.14.3"
    glibc: tuple[int, int] = RENDER_GLIBC

    @property
    def minor(self) -> tuple[int, int]:
        major, minor = self.version.split(".")[:2]
        return int(major), int(minor)

    @property
    def series(self) -> str:
        return f"{self.minor[0]}.{self.minor[1]}"

    @property
    def cp_tag(self) -> str:
        return f"cp{self.minor[0]}{self.minor[1]}"

    @property
    def abi(self) -> str:
        """The ABI tag: cp37m up to 3.7 (pymalloc builds), cp38 and on without the `m`."""
        return self.cp_tag + "m" if self.minor < (3, 8) else self.cp_tag

    def platforms(self) -> list[str]:
        """Every platform tag pip accepts on this glibc, newest first (pip does not expand
        `manylinux_2_36` by itself when given as --platform)."""
        tags = [f"manylinux_{self.glibc[0]}_{m}_x86_64" for m in range(self.glibc[1], 4, -1)]
        legacy = {(2, 17): "manylinux2014", (2, 12): "manylinux2010", (2, 5): "manylinux1"}
        tags += [f"{alias}_x86_64" for floor, alias in legacy.items() if floor <= self.glibc]
        return [*tags, "linux_x86_64"]

    def environment(self, extra: str = "") -> dict[str, str]:
        """PEP 508 marker values on Render's build machine."""
        return {
            "implementation_name": "cpython",
            "implementation_version": self.version,
            "os_name": "posix",
            "platform_machine": "x86_64",
            "platform_release": "",
            "platform_system": "Linux",
            "platform_version": "",
            "python_full_version": self.version,
            "platform_python_implementation": "CPython",
            "python_version": self.series,
            "sys_platform": "linux",
            "extra": extra,
        }

    def marker_holds(self, marker: str | Marker | None, extras: Iterable[str] = ()) -> bool:
        if marker is None or marker == "":
            return True
        try:
            parsed = marker if isinstance(marker, Marker) else Marker(marker)
            return any(parsed.evaluate(self.environment(e)) for e in ["", *extras])
        except (InvalidMarker, UndefinedComparison, UndefinedEnvironmentName):
            return True

    def allows(self, requires_python: str | None) -> bool:
        if not requires_python:
            return True
        try:
            return SpecifierSet(requires_python).contains(self.version, prereleases=True)
        except InvalidSpecifier:
            return True
