"""The fix generators a rule's template may name (`generator:` in rules.yaml): each computes its
fixes from the diagnosis and, when it has one, the package index (and says whether they were
checked): an older Python that has wheels, an upgrade of the package or of the parent that pins
it, the release that resolves a conflict, a Python or index a missing release needs, a
corrected build command. Their wording comes from the catalogue's `generators:` section.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from simulator.diagnose.conflict import probe_version, spec_allows
from simulator.diagnose.diagnosis import (
    BuildCommand,
    Fix,
    FixAction,
    Pin,
    Requirement,
    SetEnv,
)
from simulator.diagnose.fix_inputs import (
    PYTORCH_PACKAGES,
    FixInputs,
    minor_key,
    static_fix,
)
from simulator.diagnose.mentions import Mentions, exact_version, parse_requirement
from simulator.diagnose.rules import FixTemplate
from simulator.diagnose.scan import fixed_matcher
from simulator.index.client import PackageIndex
from simulator.index.listing import DistFile
from simulator.index.versions import parse_python
from simulator.index.wheels import (
    child_requirement,
    compatible_wheel,
    find_parent_upgrade,
    first_release_where,
    first_version_with_wheel,
    newest_python_with_wheels,
    release_installs_on,
)
from simulator.render.target import RENDER_GLIBC


def older_python(inputs: FixInputs, template: FixTemplate) -> list[Fix]:
    build = inputs.python.minor if inputs.python else None
    limit = minor_key(template.max_python) if template.max_python else None
    candidates = [
        minor
        for minor in inputs.render_minors()
        if (build is None or minor_key(minor) < build)
        and (limit is None or minor_key(minor) <= limit)
    ]
    if not candidates:
        return []
    package = inputs.package
    target: str | None = None
    variant = "unchecked"
    note = inputs.check_note()
    if package and package.version and inputs.index is not None:
        files = inputs.index.files(package.name, package.version)
        if files.checked:
            target = newest_python_with_wheels(
                inputs.index, package.name, package.version, candidates
            )
            variant = "checked"
            if target is None:
                if template.wheels_required:
                    return []  # no older Python has a wheel either: only an upgrade helps
                variant = "sdist"  # no wheels anywhere, but the source builds on older Pythons
    elif not package or not package.version:
        note = inputs.text("check-notes", "no-version")
    if variant == "unchecked" and build is None and template.wheels_required:
        return []  # neither the build's Python nor the wheels are known: nothing concrete to say
    action, fields = inputs.python_choice(target or candidates[0])
    fields["check_note"] = note
    checked = variant == "checked"
    return [_generated(inputs, "older-python", variant, fields, action, checked)]


def upgrade(inputs: FixInputs, template: FixTemplate) -> list[Fix]:
    package, python = inputs.package, inputs.python
    if package is None or python is None or python.minor is None:
        return []
    minor = f"{python.minor[0]}.{python.minor[1]}"
    key = canonicalize_name(package.name)
    collected = inputs.culprit.collected if inputs.culprit else None
    direct = collected is not None and collected.direct

    parent_name: str | None = None
    parent_version: str | None = None
    if collected is not None and collected.parent:
        req = parse_requirement(collected.parent)
        if req:
            parent_name, parent_version = req.name, exact_version(req)
    known_parent = inputs.catalogue.parents.get(key)
    if known_parent and (
        parent_name is None or canonicalize_name(parent_name) != canonicalize_name(known_parent)
    ):
        parent_name = known_parent
        listed = Mentions(inputs.log).collecting(canonicalize_name(known_parent))
        parent_version = listed.version if listed else None

    fields: dict[str, str] = {"check_note": inputs.check_note(), "child_note": ""}
    index = inputs.index
    versions_known = index is not None and index.versions(package.name).checked
    if index is None or not versions_known:
        if template.only_checked:
            return []
        variant = "parent-unchecked" if parent_name and known_parent else "unchecked"
        fields["upgrade_package"] = parent_name or package.name
        return [_generated(inputs, "upgrade", variant, fields, None, False)]

    first_child = first_version_with_wheel(index, package.name, minor, minimum=package.version)
    if first_child is None:
        if template.only_checked:
            return []
        if not template.wheels_required:
            return _newer_sdist(inputs, fields)
        return [_generated(inputs, "upgrade", "none", fields, None, True)]

    use_parent = parent_name is not None and (
        known_parent is not None
        or _parent_blocks(index, parent_name, parent_version, package.name, first_child, minor)
    )
    if use_parent and parent_name:
        upgrade = find_parent_upgrade(
            index, parent_name, package.name, minor, parent_version, child_minimum=package.version
        )
        if upgrade is None:
            if template.only_checked:
                return []
            fields["upgrade_package"] = parent_name
            return [_generated(inputs, "upgrade", "parent-unchecked", fields, None, False)]
        also: tuple[Requirement, ...] = ()
        if direct:
            fields["child_note"] = inputs.text("upgrade", "direct-child-note")
            also = (Requirement(package.name, f">={upgrade.child_version}"),)
        fields.update(
            upgrade_package=parent_name,
            upgrade_version=upgrade.parent_version,
            child_version=upgrade.child_version,
            child_specifier=upgrade.child_specifier,
        )
        action = Pin(parent_name, f">={upgrade.parent_version}", also)
        return [_generated(inputs, "upgrade", "parent", fields, action, True)]

    fields.update(
        upgrade_package=package.name,
        upgrade_version=first_child,
        wheel_kind=_wheel_kind(index, package.name, first_child, python.minor),
    )
    return [
        _generated(inputs, "upgrade", "child", fields, Pin(package.name, f">={first_child}"), True)
    ]


def _wheel_kind(index: PackageIndex, name: str, version: str, python: tuple[int, int]) -> str:
    """ "pure" when the release's wheel for `python` is py3-none-any, else "platform"."""
    found = compatible_wheel(index.files(name, version), python, RENDER_GLIBC)
    return "pure" if found is not None and found.filename.endswith("-none-any.whl") else "platform"


def _newer_sdist(inputs: FixInputs, fields: dict[str, str]) -> list[Fix]:
    """No release has wheels: suggest the newest release, whose build may work (unchecked)."""
    package, index = inputs.package, inputs.index
    assert package is not None and index is not None
    finals = []
    for listed in index.versions(package.name):
        try:
            parsed = Version(listed)
        except InvalidVersion:
            continue
        if not parsed.is_prerelease and not parsed.is_devrelease:
            finals.append((parsed, listed))
    if not finals:
        return []
    newest = max(finals)[1]
    if package.version and newest == package.version:
        return []
    fields = {**fields, "upgrade_version": newest}
    action = Pin(package.name, f">={newest}")
    return [_generated(inputs, "upgrade", "newer-sdist", fields, action, False)]


def _parent_blocks(
    index: PackageIndex, parent: str, version: str | None, child: str, child_first: str, python: str
) -> bool:
    """Does this parent release's requirement keep `child` below its first release with wheels?"""
    if version is None:
        return False
    requirement = child_requirement(
        index.requires_dist(parent, version), child, parse_python(python)
    )
    if requirement is None:
        return False
    return not requirement.specifier.contains(child_first, prereleases=True)


def _generated(
    inputs: FixInputs,
    generator: str,
    variant: str,
    fields: Mapping[str, str],
    action: FixAction | None,
    checked: bool,
) -> Fix:
    return Fix(
        inputs.text(generator, f"{variant}.title", **fields),
        inputs.text(generator, f"{variant}.detail", **fields),
        action,
        checked,
    )


def conflict_upgrade(inputs: FixInputs, template: FixTemplate) -> list[Fix]:
    conflict, index = inputs.conflict, inputs.index
    if conflict is None or index is None or not index.versions(conflict.culprit).checked:
        return []
    wanted = conflict.requested
    probe = (
        probe_version(wanted[len(conflict.dependency) :])
        if wanted.lower().startswith(conflict.dependency.lower())
        else probe_version(wanted)
    )
    if probe is None:
        return []
    python = inputs.python.minor if inputs.python and inputs.python.minor else (3, 12)

    def allows(version: str) -> bool | None:
        requires = index.requires_dist(conflict.culprit, version)
        if not requires.checked:
            return None
        requirement = child_requirement(requires, conflict.dependency, python)
        return requirement is None or requirement.specifier.contains(probe, prereleases=True)

    first = first_release_where(index, conflict.culprit, allows, minimum=conflict.culprit_version)
    if first is None or (conflict.culprit_version and first == conflict.culprit_version):
        return []
    fields = {
        "culprit_package": conflict.culprit,
        "upgrade_version": first,
        "dependency": conflict.dependency,
        "requested": conflict.requested,
    }
    return [
        _generated(
            inputs, "conflict-upgrade", "checked", fields, Pin(conflict.culprit, f">={first}"), True
        )
    ]


def conflict_align(inputs: FixInputs, template: FixTemplate) -> list[Fix]:
    conflict = inputs.conflict
    if conflict is None or not conflict.required:
        return []
    fields = {
        "culprit_package": conflict.culprit
        + (f" {conflict.culprit_version}" if conflict.culprit_version else ""),
        "dependency": conflict.dependency,
        "required": conflict.required,
        "requested": conflict.requested,
    }
    action = Pin(conflict.dependency, conflict.required)
    return [_generated(inputs, "conflict-align", "default", fields, action, False)]


_FROM_VERSIONS = fixed_matcher(r"\(from versions: (?P<versions>[^)]*)\)")


_IGNORED = fixed_matcher(
    r"Ignored the following versions that require a different python version: (?P<list>.*)",
    ["require a different python version"],
)


def no_match(inputs: FixInputs, template: FixTemplate) -> list[Fix]:
    package = inputs.package
    if package is None:
        return []
    fixes: list[Fix] = []
    version = package.version or ""
    key = canonicalize_name(package.name)
    if "+" in version and key in PYTORCH_PACKAGES:
        local = version.split("+", 1)[1]
        extra = f"https://download.pytorch.org/whl/{local}"
        fields = {"local": local, "extra_index": extra}
        fixes.append(
            _generated(
                inputs,
                "no-match",
                "local-version",
                fields,
                SetEnv("PIP_EXTRA_INDEX_URL", extra),
                False,
            )
        )
        return fixes

    # The requested release exists but needs another Python ("Ignored the following versions").
    for hit in inputs.log.hits(_IGNORED):
        for item in hit.match["list"].split(";"):
            match = re.match(r"\s*(\S+) Requires-Python (.+?)\s*$", item)
            if match and version and match.group(1) == version:
                spec = match.group(2)
                for minor in inputs.render_minors():
                    if minor == inputs.build_minor():
                        continue  # the build's own Python is the one the release refuses
                    if spec_allows(spec, f"{minor}.0") or spec_allows(spec, f"{minor}.99"):
                        action, fields = inputs.python_choice(minor)
                        fields["python_spec"] = spec
                        fixes.append(
                            _generated(
                                inputs, "no-match", "python-for-release", fields, action, False
                            )
                        )
                        return fixes

    available = []
    pinned_by_parent = False  # "(from pydantic)": another package pins it; a pin here conflicts
    for hit in inputs.log.hits(_FROM_VERSIONS):
        decisive = inputs.decisive is not None and hit.start == inputs.decisive.start
        if decisive or "satisfies the requirement" in hit.text:
            available = [
                v.strip()
                for v in hit.match["versions"].split(",")
                if v.strip() and v.strip() != "none"
            ]
            parent = re.search(r"\(from (?!versions:)(?P<parent>[^)]*)\)", hit.text)
            pinned_by_parent = bool(parent and not parent["parent"].startswith(("-r", "-c")))
    finals = []
    for item in available:
        try:
            parsed = Version(item)
        except InvalidVersion:
            continue
        if not parsed.is_prerelease:
            finals.append((parsed, item))
    if finals and version and version not in available and not pinned_by_parent:
        newest = max(finals)[1]
        fields = {"available_version": newest}
        fixes.append(
            _generated(
                inputs, "no-match", "pin-available", fields, Pin(package.name, f"=={newest}"), False
            )
        )
        return fixes

    build = inputs.build_minor()
    if (not available or pinned_by_parent) and inputs.index is not None and version:
        files = inputs.index.files(package.name, version)
        # Another Python helps only if this one is why pip found nothing: a release that
        # installs on the build's Python failed for another reason (a misread name, an index).
        if files.checked and files and not (build and release_installs_on(files, build)):
            for minor in inputs.render_minors():
                if minor != build and release_installs_on(files, minor):
                    action, fields = inputs.python_choice(minor)
                    fields["python_spec"] = _python_spec(files, inputs.render_minors())
                    fixes.append(
                        _generated(inputs, "no-match", "python-for-release", fields, action, True)
                    )
                    return fixes
            return fixes
    if not available and version:
        newer = [
            m for m in inputs.render_minors() if build is None or minor_key(m) > minor_key(build)
        ]
        if not newer:
            return fixes  # no newer Python than the build's to suggest
        action, fields = inputs.python_choice(newer[0])
        fields["check_note"] = inputs.check_note()
        fixes.append(_generated(inputs, "no-match", "python-unchecked", fields, action, False))
    return fixes


def _python_spec(files: Sequence[DistFile], minors: Sequence[str]) -> str:
    """What a release asks of the Python, for "requires Python ...": its Requires-Python, or,
    when it has none, the Pythons its wheels are built for."""
    specs = sorted({f.requires_python for f in files if f.requires_python})
    if specs:
        return ", ".join(specs)
    fitting = [m for m in minors if release_installs_on(files, m)]
    return " or ".join(fitting) + " (its wheels are built for those only)"


def drop_system_flag(inputs: FixInputs, template: FixTemplate) -> list[Fix]:
    command = inputs.context.build_command
    action = None
    if command and "--system" not in command and ".sh" not in command:
        return []  # the service's command has no --system to drop (nor a script that might)
    if not command and not any(
        needle in inputs.log.data for needle in (b"--system", b"environment at: /usr")
    ):
        return []  # no command known, and nothing in the log says uv ran with --system
    if command and "--system" in command:
        action = BuildCommand(" ".join(part for part in command.split() if part != "--system"))
    return [static_fix(inputs, template, action)]


def no_cache_dir(inputs: FixInputs, template: FixTemplate) -> list[Fix]:
    command = inputs.context.build_command
    if command and "--no-cache-dir" in command:
        return []  # already there: adding it again changes nothing
    action: FixAction
    if command and "pip install" in command and "--no-cache-dir" not in command:
        action = BuildCommand(command.replace("pip install", "pip install --no-cache-dir", 1))
    else:
        action = SetEnv("PIP_NO_CACHE_DIR", "1")
    return [static_fix(inputs, template, action)]
