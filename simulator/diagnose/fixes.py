"""The concrete fixes of a diagnosis, built from the firing rule's fix templates.

A template is either static (its title, detail and action are filled in from the diagnosis's
fields) or names a generator that computes the fix: an older Python that has wheels, an upgrade
of the package or of the parent that pins it, the release that resolves a conflict, a Python or
index a missing release needs, a corrected build command. Generators ask the optional
`PackageIndex` (`simulator.index.client`) and say whether the fix was checked against real metadata;
their wording comes from the catalogue's `generators:` section.

`no_wheel_fixes` gives the fixes of a package without a wheel for a Python when there is no
build log (what `render-sim check` predicts): the same templates and generators as a diagnosis.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from simulator.diagnose import fix_generators
from simulator.diagnose.catalogue import load_rules
from simulator.diagnose.catalogue_schema import GENERATORS
from simulator.diagnose.culprit import Culprit
from simulator.diagnose.diagnosis import (
    DiagnosisContext,
    Fix,
    PackageRef,
    PythonInfo,
)
from simulator.diagnose.fix_inputs import NO_WHEEL_CLASS, FixInputs, static_fix
from simulator.diagnose.mentions import Mention
from simulator.diagnose.python_in_log import python_fields
from simulator.diagnose.rules import FixTemplate
from simulator.diagnose.scan import ScannedLog
from simulator.index.client import PackageIndex

_GENERATOR_FUNCTIONS: dict[str, Callable[[FixInputs, FixTemplate], list[Fix]]] = {
    "older-python": fix_generators.older_python,
    "upgrade": fix_generators.upgrade,
    "conflict-upgrade": fix_generators.conflict_upgrade,
    "conflict-align": fix_generators.conflict_align,
    "no-match": fix_generators.no_match,
    "drop-system-flag": fix_generators.drop_system_flag,
    "no-cache-dir": fix_generators.no_cache_dir,
}


assert set(_GENERATOR_FUNCTIONS) == GENERATORS


def build_fixes(templates: Sequence[FixTemplate], inputs: FixInputs) -> list[Fix]:
    """The fixes of a rule's templates in order, skipping those whose `when_log` does not apply."""
    fixes: list[Fix] = []
    for template in templates:
        if template.when_log and not any(needle in inputs.log.text for needle in template.when_log):
            continue
        if template.generator:
            fixes.extend(_GENERATOR_FUNCTIONS[template.generator](inputs, template))
        else:
            fixes.append(static_fix(inputs, template))
    return fixes


def no_wheel_fixes(
    package: PackageRef,
    python: PythonInfo,
    context: DiagnosisContext,
    index: PackageIndex | None,
    *,
    parent: str | None = None,
    direct: bool = False,
) -> list[Fix]:
    """The fixes `explain` gives for `no-wheel-python-too-new`, without a build log: the newest
    Python with wheels for `package`, and the first release of the package (or of its parent,
    e.g. pydantic for pydantic-core) with wheels for `python`.

    `parent` is the requirement that pulled the package in ("pydantic==2.9.2"); `direct` says
    whether the requirements also name the package themselves.
    """
    catalogue = load_rules()
    rule = next(r for r in catalogue.rules if r.failure_class == NO_WHEEL_CLASS)
    fields: dict[str, str] = dict(rule.defaults)
    fields.update(python_fields(python))
    fields.update(
        package=package.name,
        package_label=str(package),
        version=package.version or "",
        build_command=context.build_command or "",
        index_name=index.description if index is not None else "the package index",
        conflict="",
        download_note="",
    )
    # The generators read the parent from the culprit's `Collecting` line; here it is known.
    collected = Mention(0, package.name, package.version, "collect", parent=parent, direct=direct)
    inputs = FixInputs(
        catalogue,
        ScannedLog(""),
        fields,
        package,
        python,
        context,
        index,
        Culprit(package, 0, None, collected),
        None,
    )
    return build_fixes(rule.fixes, inputs)
