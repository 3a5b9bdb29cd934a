"""The dependencies of a pyproject.toml: PEP 621 `[project]`, or Poetry's tables and groups.

Poetry constraints (`^1.2`, `~1.2.3`, `1.2.*`) are turned into PEP 440 specifiers, and Poetry
dependencies into PEP 508 lines for the target (`python` and `markers` restrictions applied).
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from pathlib import Path
from typing import Any

from simulator.config.dep_files import (
    DirectReference,
    Problem,
    Requirements,
    read_toml,
    relative,
    tomllib,
)
from simulator.errors import ConfigurationError, Location
from simulator.render.target import Target


def read_pyproject_requirements(
    repo: Path,
    directory: Path,
    target: Target,
    *,
    extras: set[str] | None = None,
    groups: Sequence[str] = (),
    into: Requirements,
    where: str = "",
) -> str:
    """Add what `pip install <directory>` installs: [project] dependencies (with `extras`), or
    Poetry's [tool.poetry.dependencies] (and `groups`). Returns the project's name."""
    path = directory / "pyproject.toml"
    shown = relative(repo, path)
    data = read_toml(path, shown, "pyproject.toml", repo=repo)
    into.files.append(shown)
    project = data.get("project") if isinstance(data.get("project"), dict) else None
    poetry = (data.get("tool") or {}).get("poetry") if isinstance(data.get("tool"), dict) else None
    extras = extras or set()
    name = ""
    python_spec: str | None = None
    found = False
    if project is not None:
        name = str(project.get("name") or "")
        python_spec = project.get("requires-python")
        deps = project.get("dependencies")
        if deps is not None and (
            not isinstance(deps, list) or not all(isinstance(d, str) for d in deps)
        ):
            raise ConfigurationError(
                f"{shown}: [project].dependencies must be a list of requirement strings",
                hint='write dependencies = ["fastapi==0.115.0", ...]',
                where=Location(shown, 0, "project.dependencies"),
            )
        if isinstance(deps, list):
            found = True
            for number, dep in enumerate(deps):
                into.lines.append((str(dep), f"{shown} [project].dependencies[{number}]"))
        elif "dependencies" in (project.get("dynamic") or []):
            into.notes.append(
                f"{shown} declares its dependencies as dynamic (read by its build backend): "
                "render-sim cannot read them without building the project"
            )
        optional = project.get("optional-dependencies") or {}
        for extra in sorted(extras):
            for dep in optional.get(extra, []) if isinstance(optional, dict) else []:
                into.lines.append((str(dep), f"{shown} [project.optional-dependencies].{extra}"))
    if isinstance(poetry, dict) and (not found or groups):
        name = name or str(poetry.get("name") or "")
        tables: list[tuple[str, Any]] = []
        if not found:
            tables.append(("tool.poetry.dependencies", poetry.get("dependencies")))
        for group in groups:
            group_table = ((poetry.get("group") or {}).get(group) or {}).get("dependencies")
            if group == "dev" and group_table is None:
                group_table = poetry.get("dev-dependencies")
            tables.append((f"tool.poetry.group.{group}.dependencies", group_table))
        for label, table in tables:
            if not isinstance(table, dict):
                continue
            found = True
            if label == "tool.poetry.dependencies" and isinstance(table.get("python"), str):
                python_spec = python_spec or poetry_specifier(table["python"])
            for dep_name, spec in table.items():
                if dep_name.lower() == "python":
                    continue
                line = poetry_requirement(
                    dep_name, spec, target, extras, into, f"{shown} [{label}]"
                )
                if line:
                    into.lines.append((line, f"{shown} [{label}]"))
    if not found and not (project or {}).get("dynamic"):
        into.notes.append(f"{shown} lists no dependencies")
    if python_spec and not target.allows(python_spec):
        into.problems.append(
            Problem(
                f"{name or shown} requires Python {python_spec}, and Render's build uses "
                f"{target.version}: the install stops there",
                hint="pin a Python the project allows (PYTHON_VERSION) or widen requires-python",
            )
        )
    return name


_POETRY_PART = re.compile(r"^\s*(?P<op>\^|~=|~|==|!=|>=|<=|>|<|=)?\s*(?P<version>[^\s,]+)\s*$")


def _bump(parts: list[int], position: int) -> str:
    head = parts[:position] + [parts[position] + 1]
    return ".".join(str(p) for p in head)


def poetry_specifier(spec: str) -> str | None:
    """A PEP 440 specifier for a Poetry constraint (`^1.2`, `~1.2.3`, `1.2.*`, `>=1,<2`);
    None for `*` and for alternatives (`||`), which PEP 440 cannot say."""
    spec = spec.strip()
    if spec in ("", "*") or "||" in spec or "|" in spec:
        return None
    out: list[str] = []
    for part in re.split(r",|\s+(?=[<>=!~^])", spec):
        if not part.strip():
            continue
        match = _POETRY_PART.match(part)
        if match is None:
            return None
        op, version = match["op"] or "", match["version"]
        if version == "*":
            continue
        if op in ("", "=") and "*" not in version:
            out.append(f"=={version}")
            continue
        if op in ("", "=", "==") and "*" in version:
            out.append(f"=={version}")
            continue
        numbers = [int(x) for x in re.findall(r"\d+", version.split("+")[0])[:3]]
        if op == "^" and numbers:
            position = next((i for i, n in enumerate(numbers) if n != 0), len(numbers) - 1)
            out += [f">={version}", f"<{_bump(numbers, position)}"]
        elif op == "~" and numbers:
            position = 1 if len(numbers) >= 2 else 0
            out += [f">={version}", f"<{_bump(numbers, position)}"]
        else:
            out.append(f"{op}{version}")
    return ",".join(out) or None


def poetry_requirement(
    name: str,
    spec: Any,
    target: Target,
    extras: set[str],
    into: Requirements,
    where: str,
) -> str | None:
    """One Poetry dependency as a PEP 508 line, or None when it does not apply to the target."""
    if isinstance(spec, list):  # several constraints, each for some Pythons/markers
        for item in spec:
            line = poetry_requirement(name, item, target, extras, into, where)
            if line:
                return line
        return None
    if isinstance(spec, str):
        specifier = poetry_specifier(spec)
        if specifier is None and spec.strip() not in ("", "*"):
            into.notes.append(f"{where}: {name} = {spec!r} is read as any version")
        return f"{name}{specifier or ''}"
    if not isinstance(spec, dict):
        return name
    if not poetry_applies(spec, target, extras):
        return None
    for key in ("git", "url", "path"):
        if key in spec:
            if key == "path":
                into.notes.append(
                    f"{where}: {name} comes from the local path {spec['path']}; not checked"
                )
                return None
            into.direct.append(
                DirectReference(
                    name,
                    f"{name} comes from {spec[key]}: it is built from source on every "
                    "deploy (its own dependencies are not checked here)",
                    where,
                )
            )
            return None
    extra_names = spec.get("extras") or []
    label = f"{name}[{','.join(extra_names)}]" if extra_names else name
    version = spec.get("version")
    specifier = poetry_specifier(version) if isinstance(version, str) else None
    return f"{label}{specifier or ''}"


def poetry_default_groups(pyproject: Path) -> list[str]:
    """The groups `poetry install` installs besides main: every group not marked optional
    (and the old `dev-dependencies` table)."""
    if not pyproject.is_file() or tomllib is None:
        return ["dev"]
    try:
        data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return ["dev"]  # read_pyproject_requirements reports the file itself
    poetry = (data.get("tool") or {}).get("poetry") or {}
    groups = [
        name
        for name, table in (poetry.get("group") or {}).items()
        if isinstance(table, dict) and not table.get("optional")
    ]
    if "dev-dependencies" in poetry and "dev" not in groups:
        groups.append("dev")
    return groups


def poetry_applies(
    spec: Any, target: Target, extras: Collection[str], ignore_optional: bool = False
) -> bool:
    if isinstance(spec, list):
        return any(poetry_applies(s, target, extras, ignore_optional) for s in spec)
    if not isinstance(spec, dict):
        return True
    if spec.get("optional") and not extras and not ignore_optional:
        return False
    python = spec.get("python")
    if isinstance(python, str):
        allowed = poetry_specifier(python)
        if allowed and not target.allows(allowed):
            return False
    markers = spec.get("markers")
    return not (isinstance(markers, str) and not target.marker_holds(markers))
