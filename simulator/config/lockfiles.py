"""uv.lock and poetry.lock: the locked packages an install would have on the target.

Each reader walks the lock from the project's own dependencies (with the extras and groups the
build command selects), keeps what applies to the target's markers and Python, and returns each
package with the file names the lock lists, so no resolution is needed.
"""

from __future__ import annotations

import contextlib
import re
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from simulator.config.dep_files import Problem, read_toml, relative
from simulator.config.pyproject_deps import poetry_applies, poetry_specifier
from simulator.errors import ConfigurationError, Location
from simulator.render.target import Target


@dataclass(frozen=True)
class Locked:
    """One locked distribution: its files (names only) and who needs it."""

    name: str
    version: str
    files: tuple[str, ...]
    parents: tuple[str, ...] = ()  # "pydantic==2.9.2"
    direct: bool = False
    source: str = "registry"  # registry, git, url, path


UV_LOCK_VERSIONS = (1,)
POETRY_LOCK_VERSIONS = ("1.1", "2.0", "2.1")


def _lock_name(url_or_path: str) -> str:
    return urllib.parse.unquote(urllib.parse.urlparse(url_or_path).path.rsplit("/", 1)[-1])


def read_uv_lock(
    path: Path,
    shown: str,
    target: Target,
    *,
    dev: bool = True,
    extras: Sequence[str] = (),
    all_extras: bool = False,
    groups: Sequence[str] = (),
    repo: Path,
) -> tuple[list[Locked], list[Problem], list[str]]:
    """The packages `uv sync` installs on the target, read from uv.lock (format version 1).

    `repo` is the repository: a lock file outside it (a symbolic link) is not read.
    """
    data = read_toml(path, shown, "uv.lock", repo=repo)
    version = data.get("version")
    if version not in UV_LOCK_VERSIONS:
        raise ConfigurationError(
            f"lock format version {version!r} is not one render-sim reads (it reads version "
            + ", ".join(str(v) for v in UV_LOCK_VERSIONS)
            + ")",
            hint="regenerate it with a current uv (`uv lock`), or update render-sim",
            where=Location(shown),
        )
    packages = data.get("package")
    if not isinstance(packages, list):
        raise ConfigurationError(f"{shown} has no [[package]] entries", where=Location(shown))
    problems: list[Problem] = []
    notes: list[str] = []
    requires_python = data.get("requires-python")
    if isinstance(requires_python, str) and not target.allows(requires_python):
        problems.append(
            Problem(
                f"{shown} was locked for Python {requires_python}; Render's build uses "
                f"{target.version}, so `uv sync` stops",
                hint="pin a Python the project allows (PYTHON_VERSION or .python-version)",
            )
        )
    for number, entry in enumerate(packages):
        if (
            not isinstance(entry, dict)
            or not isinstance(entry.get("name"), str)
            or not isinstance(entry.get("source", {}), dict)
        ):
            raise ConfigurationError(
                f"{shown}: [[package]] number {number + 1} is not a uv package entry "
                "(a table with a name and a source table)",
                hint="regenerate it with `uv lock`",
                where=Location(shown, 0, "package"),
            )
    by_name: dict[str, list[dict[str, Any]]] = {}
    for entry in packages:
        if isinstance(entry, dict) and "name" in entry:
            by_name.setdefault(canonicalize_name(str(entry["name"])), []).append(entry)

    def find(dep: dict[str, Any]) -> dict[str, Any] | None:
        candidates = by_name.get(canonicalize_name(str(dep.get("name", ""))), [])
        if "version" in dep:
            candidates = [c for c in candidates if str(c.get("version")) == str(dep["version"])]
        return candidates[0] if candidates else None

    roots = [
        e
        for e in packages
        if isinstance(e, dict)
        and isinstance(e.get("source"), dict)
        and ({"editable", "virtual"} & set(e["source"]))
    ]
    chosen: dict[tuple[str, str], tuple[dict[str, Any], set[str], bool]] = {}
    if not roots:
        notes.append(f"{shown} has no project entry: every locked package is checked")
        for entry in packages:
            if isinstance(entry, dict):
                chosen[(str(entry.get("name")), str(entry.get("version")))] = (entry, set(), True)
    queue: list[tuple[dict[str, Any], set[str], str | None]] = [(r, set(), None) for r in roots]
    root_keys = {(str(r.get("name")), str(r.get("version"))) for r in roots}
    while queue:
        entry, wanted_extras, parent = queue.pop()
        key = (str(entry.get("name")), str(entry.get("version")))
        is_root = key in root_keys
        edges: list[dict[str, Any]] = list(entry.get("dependencies") or [])
        optional = entry.get("optional-dependencies") or {}
        use_extras = set(optional) if (is_root and all_extras) else set(wanted_extras)
        if is_root:
            use_extras |= set(extras)
            dev_groups = entry.get("dev-dependencies") or {}
            for group, deps in dev_groups.items():
                if (dev and group == "dev") or group in groups:
                    edges += list(deps)
        for extra in use_extras:
            edges += list(optional.get(extra) or [])
        for dep in edges:
            if not isinstance(dep, dict) or not target.marker_holds(dep.get("marker")):
                continue
            child = find(dep)
            if child is None:
                continue
            child_key = (str(child.get("name")), str(child.get("version")))
            child_extras = set(dep.get("extra") or [])
            parent_label = None if is_root else f"{key[0]}=={key[1]}"
            seen = chosen.get(child_key)
            if seen is not None and child_extras <= seen[1]:
                if parent_label and parent_label not in seen[0].get("_parents", []):
                    seen[0].setdefault("_parents", []).append(parent_label)
                continue
            merged = child_extras | (seen[1] if seen else set())
            direct = is_root or (seen[2] if seen else False)
            chosen[child_key] = (child, merged, direct)
            if parent_label:
                child.setdefault("_parents", [])
                if parent_label not in child["_parents"]:
                    child["_parents"].append(parent_label)
            if child_key not in root_keys:
                queue.append((child, merged, parent_label))
    locked = []
    for (name, version), (entry, _, direct) in chosen.items():
        source = entry.get("source") or {}
        if (name, version) in root_keys or {"editable", "virtual", "directory", "path"} & set(
            source
        ):
            continue
        kind = "registry" if "registry" in source else "git" if "git" in source else "url"
        files = [
            _lock_name(str(w.get("url") or w.get("path") or w.get("filename") or ""))
            for w in entry.get("wheels") or []
            if isinstance(w, dict)
        ]
        sdist = entry.get("sdist")
        if isinstance(sdist, dict):
            files.append(
                _lock_name(str(sdist.get("url") or sdist.get("path") or "")) or "sdist.tar.gz"
            )
        locked.append(
            Locked(name, version, tuple(files), tuple(entry.get("_parents", [])), direct, kind)
        )
    return locked, problems, notes


def read_poetry_lock(
    path: Path,
    shown: str,
    target: Target,
    pyproject: Path,
    *,
    groups: Sequence[str] = ("main", "dev"),
    extras: Sequence[str] = (),
    repo: Path,
) -> tuple[list[Locked], list[Problem], list[str]]:
    """The packages `poetry install` installs on the target, read from poetry.lock (and its
    pyproject.toml). `repo` is the repository: a file outside it (a symbolic link) is not read."""
    data = read_toml(path, shown, "poetry.lock", repo=repo)
    metadata = data.get("metadata") if isinstance(data.get("metadata"), dict) else {}
    assert isinstance(metadata, dict)
    version = str(metadata.get("lock-version", ""))
    if version not in POETRY_LOCK_VERSIONS:
        raise ConfigurationError(
            f"lock-version {version or '(none)'!r} is not one render-sim reads (it reads "
            + ", ".join(POETRY_LOCK_VERSIONS)
            + ")",
            hint="regenerate it with `poetry lock`, or update render-sim",
            where=Location(shown),
        )
    packages = [p for p in data.get("package") or [] if isinstance(p, dict) and "name" in p]
    problems: list[Problem] = []
    notes: list[str] = []
    python_spec = metadata.get("python-versions")
    if isinstance(python_spec, str):
        allowed = poetry_specifier(python_spec)
        if allowed and not target.allows(allowed):
            problems.append(
                Problem(
                    f"{shown} was locked for Python {python_spec}; Render's build uses "
                    f"{target.version}, so `poetry install` stops",
                    hint="pin a Python the project allows (PYTHON_VERSION or .python-version)",
                )
            )
    old_files = metadata.get("files") if isinstance(metadata.get("files"), dict) else {}
    assert isinstance(old_files, dict)
    by_name: dict[str, dict[str, Any]] = {canonicalize_name(str(p["name"])): p for p in packages}

    roots: dict[str, Any] = {}
    if pyproject.is_file():
        project_data = read_toml(pyproject, relative(repo, pyproject), "pyproject.toml", repo=repo)
        poetry = (project_data.get("tool") or {}).get("poetry") or {}
        for dep in (project_data.get("project") or {}).get("dependencies") or []:
            with contextlib.suppress(InvalidRequirement):
                req = Requirement(str(dep))
                if target.marker_holds(req.marker):
                    roots[canonicalize_name(req.name)] = sorted(req.extras)
        tables = []
        for group in groups:
            if group == "main":
                tables.append(poetry.get("dependencies"))
            else:
                tables.append(((poetry.get("group") or {}).get(group) or {}).get("dependencies"))
                if group == "dev":
                    tables.append(poetry.get("dev-dependencies"))
        for table in tables:
            for name, spec in (table or {}).items():
                if name.lower() == "python" or not poetry_applies(spec, target, extras):
                    continue
                wanted = spec.get("extras", []) if isinstance(spec, dict) else []
                roots[canonicalize_name(name)] = list(wanted)
    chosen: dict[str, tuple[set[str], bool]] = {}
    parents: dict[str, list[str]] = {}
    if not roots:
        notes.append(f"{shown}: no dependencies found in pyproject.toml; every package is checked")
        for package in packages:
            if not package.get("optional"):
                chosen[canonicalize_name(str(package["name"]))] = (set(), True)
    queue: list[tuple[str, set[str], str | None]] = [
        (name, set(wanted_extras), None) for name, wanted_extras in roots.items()
    ]
    while queue:
        name, wanted, parent = queue.pop()
        found = by_name.get(name)
        if found is None:
            continue
        package = found
        if parent:
            parents.setdefault(name, [])
            if parent not in parents[name]:
                parents[name].append(parent)
        seen = chosen.get(name)
        if seen is not None and wanted <= seen[0]:
            continue
        merged = wanted | (seen[0] if seen else set())
        chosen[name] = (merged, (seen[1] if seen else False) or parent is None)
        label = f"{package['name']}=={package.get('version')}"
        deps = dict(package.get("dependencies") or {})
        extras_table = package.get("extras") or {}
        extra_names: set[str] = set()
        for extra in merged:
            for item in extras_table.get(extra, []):
                extra_names.add(canonicalize_name(re.split(r"[\s\[(<>=!~;]", str(item))[0]))
        for dep_name, spec in deps.items():
            optional = isinstance(spec, dict) and spec.get("optional")
            if optional and canonicalize_name(dep_name) not in extra_names:
                continue
            if not poetry_applies(spec, target, (), ignore_optional=True):
                continue
            wanted_child = set(spec.get("extras", [])) if isinstance(spec, dict) else set()
            queue.append((canonicalize_name(dep_name), wanted_child, label))
    locked = []
    for name, (_, direct) in chosen.items():
        package = by_name[name]
        source = package.get("source") or {}
        kind = str(source.get("type") or "registry") if isinstance(source, dict) else "registry"
        if kind in ("directory", "file") and not str(source.get("url", "")).endswith(".whl"):
            continue
        files = package.get("files")
        if files is None:
            files = old_files.get(package["name"]) or old_files.get(name) or []
        names = tuple(str(f.get("file")) for f in files if isinstance(f, dict) and f.get("file"))
        locked.append(
            Locked(
                str(package["name"]),
                str(package.get("version")),
                names,
                tuple(parents.get(name, [])),
                direct,
                "git" if kind == "git" else "registry" if kind in ("registry", "legacy") else kind,
            )
        )
    return locked, problems, notes
