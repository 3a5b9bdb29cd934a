"""What rules.yaml may say: its keys, culprit steps, fix generators, template fields.

`simulator.diagnose.catalogue` checks the file against these names when it loads; the fix
planner (`simulator.diagnose.fixes`) dispatches on the same generator names.
"""

from __future__ import annotations

CULPRIT_STEPS = frozenset(
    {
        "signal",
        "owner",
        "traceback-frame",
        "build-failure",
        "pip-unpack-dir",
        "local-crate",
        "last-sdist",
        "largest-download",
        "failed-command",
        "conflict",
        "capture",
    }
)
GENERATORS = frozenset(
    {
        "older-python",
        "upgrade",
        "conflict-upgrade",
        "conflict-align",
        "no-match",
        "drop-system-flag",
        "no-cache-dir",
    }
)
# Generators that take their texts from the `generators:` section, not from the fix entry.
SELF_WORDED_GENERATORS = frozenset(
    {"older-python", "upgrade", "conflict-upgrade", "conflict-align", "no-match"}
)
ACTION_FIELDS: dict[str, frozenset[str]] = {
    "set-env": frozenset({"key", "value"}),
    "python-version-file": frozenset({"value"}),
    "pin": frozenset({"package", "specifier"}),
    "build-command": frozenset({"value"}),
}
#: Template fields every rule may use; a rule adds its own through `defaults`.
CORE_FIELDS = frozenset(
    {
        "package_label",
        "package",
        "version",
        "python",
        "python_label",
        "python_minor",
        "cp_tag",
        "python_source",
        "build_command",
        "index_name",
        "conflict",
        "download_note",
        "step",
        "installer",
    }
)
GENERATOR_FIELDS = frozenset(
    {
        "target_python",
        "target_python_full",
        "target_cp_tag",
        "pin_how",
        "runtime_note",
        "check_note",
        "upgrade_package",
        "upgrade_version",
        "child_version",
        "child_specifier",
        "child_note",
        "culprit_package",
        "dependency",
        "requested",
        "required",
        "local",
        "extra_index",
        "available_version",
        "python_spec",
    }
)
RULE_KEYS = frozenset(
    {
        "class",
        "priority",
        "source",
        "root_cause",
        "culprit",
        "captures",
        "defaults",
        "signals",
        "context",
        "headline",
        "headline_weak",
        "headline_no_python",
        "explanation",
        "explanation_no_python",
        "fixes",
        "phase",
    }
)
SIGNAL_KEYS = frozenset(
    {
        "pattern",
        "needles",
        "source",
        "weak",
        "detail",
        "package",
        "culprit",
        "verdict",
        "with",
        "min_python",
        "when_context",
    }
)
#: DiagnosisContext fields a signal may require (`when_context`): facts the caller knows, passed
#: as data, never as text in the log.
CONTEXT_FLAGS = frozenset({"crates_io_unreachable"})
PHASES = ("build", "runtime")
CONTEXT_KEYS = frozenset({"pattern", "needles", "source"})
FIX_KEYS = frozenset(
    {
        "title",
        "detail",
        "action",
        "generator",
        "max_python",
        "only_checked",
        "wheels_required",
        "when_log",
    }
)
TOP_KEYS = frozenset({"version", "parents", "generators", "warnings", "rules"})
# The variants each self-worded generator must define in `generators:`.
GENERATOR_VARIANTS: dict[str, tuple[str, ...]] = {
    "older-python": (
        "checked",
        "unchecked",
        "sdist",
        "pin-env",
        "pin-file",
        "pin-file-env-set",
        "runtime-note",
    ),
    "upgrade": (
        "parent",
        "child",
        "none",
        "newer-sdist",
        "unchecked",
        "parent-unchecked",
        "direct-child-note",
    ),
    "conflict-upgrade": ("checked",),
    "conflict-align": ("default",),
    "no-match": ("local-version", "pin-available", "python-for-release", "python-unchecked"),
    "check-notes": ("offline", "no-index", "no-version"),
}
WARNING_IDS = ("runtime-txt", "default-python")
