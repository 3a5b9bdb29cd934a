"""The sparse cargo registry of the hermetic fixtures: its crates and how the tree is written.

`rsimdemo` (which depends on `rsimcore`) is what the Rust sdist of tests/hermetic/packages.py
fetches through cargo; the tree is served at `sparse+http://crates:8000/` (compose.yml).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from tests.hermetic.packages import CRATES_DL, CRATES_INDEX, targz

# -- crates -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Crate:
    """One `.crate` of the sparse registry and its index entry."""

    name: str
    version: str
    data: bytes
    deps: tuple[tuple[str, str], ...] = ()  # (name, version requirement)

    @property
    def cksum(self) -> str:
        return hashlib.sha256(self.data).hexdigest()

    def index_entry(self) -> dict[str, object]:
        """Its line in the registry index (cargo's registry index format)."""
        return {
            "name": self.name,
            "vers": self.version,
            "deps": [
                {
                    "name": name,
                    "req": req,
                    "features": [],
                    "optional": False,
                    "default_features": True,
                    "target": None,
                    "kind": "normal",
                }
                for name, req in self.deps
            ],
            "cksum": self.cksum,
            "features": {},
            "yanked": False,
        }


def crate(name: str, version: str, lib_rs: str, deps: Sequence[tuple[str, str]] = ()) -> Crate:
    """A `.crate`: a gzip'd tar of NAME-VERSION/Cargo.toml and src/lib.rs."""
    dependencies = "".join(f'{dep} = "{req}"\n' for dep, req in deps)
    manifest = f'[package]\nname = "{name}"\nversion = "{version}"\nedition = "2021"\n'
    if dependencies:
        manifest += "\n[dependencies]\n" + dependencies
    members = {
        f"{name}-{version}/Cargo.toml": manifest,
        f"{name}-{version}/src/lib.rs": lib_rs,
    }
    return Crate(name, version, targz(members), tuple(deps))


def crates() -> list[Crate]:
    """The registry's crates: `rsimdemo`, which depends on `rsimcore`."""
    return [
        crate("rsimcore", "0.1.0", "pub const ANSWER: u32 = 42;\n"),
        crate(
            "rsimdemo",
            "0.1.0",
            "pub fn answer() -> u32 {\n    rsimcore::ANSWER\n}\n",
            deps=[("rsimcore", "0.1")],
        ),
    ]


def sparse_path(name: str) -> str:
    """Where a registry index keeps a crate's file: 1/a, 2/ab, 3/a/abc, ab/cd/abcdef."""
    lower = name.lower()
    if len(lower) <= 2:
        return f"{len(lower)}/{lower}"
    if len(lower) == 3:
        return f"3/{lower[0]}/{lower}"
    return f"{lower[:2]}/{lower[2:4]}/{lower}"


def write_registry(root: Path, registry_crates: Iterable[Crate]) -> None:
    """A sparse cargo registry of `registry_crates` at `root` (config.json, index, .crate files)."""
    root.mkdir(parents=True, exist_ok=True)
    config = {"dl": CRATES_DL, "api": CRATES_INDEX.removeprefix("sparse+").rstrip("/")}
    (root / "config.json").write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")
    entries: dict[str, list[Crate]] = {}
    for item in registry_crates:
        entries.setdefault(item.name, []).append(item)
        archive = root / "crates" / item.name / f"{item.name}-{item.version}.crate"
        archive.parent.mkdir(parents=True, exist_ok=True)
        archive.write_bytes(item.data)
    for name, versions in entries.items():
        index_file = root / sparse_path(name)
        index_file.parent.mkdir(parents=True, exist_ok=True)
        lines = [json.dumps(v.index_entry(), separators=(",", ":")) for v in versions]
        index_file.write_text("\n".join(lines) + "\n", encoding="utf-8")
