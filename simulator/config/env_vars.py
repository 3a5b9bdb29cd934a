"""Environment variables of a Blueprint, and its environment groups, as a build sees them.

A variable gets its value one way: `value` (written in the file), `generateValue: true` (a
fresh random value, as Render makes one when the service is created), `sync: false` (typed
into the Dashboard: unknown here, pass it with `--env-file`), `fromDatabase` / `fromService`
(known only on Render: a marked placeholder). Groups (`envVarGroups`) are merged into the
services that name them with `fromGroup`.
"""

from __future__ import annotations

import base64
import secrets
from dataclasses import dataclass

from simulator.config.blueprint_fields import Fields, choices_hint, kind_of, suggest
from simulator.config.yaml_lines import LineMapping, LineSequence
from simulator.render import facts

PLACEHOLDER_PREFIX = "render-sim-placeholder"
# What Render's Blueprint spec allows in an envVars item (data/render_blueprint.yaml).
ENV_VAR_KEYS = facts.blueprint_spec().env_var_keys
DATABASE_PROPERTIES = facts.blueprint_spec().database_properties
SERVICE_PROPERTIES = facts.blueprint_spec().service_properties
VALUE_FORMS = facts.blueprint_spec().value_forms


@dataclass(frozen=True)
class EnvVar:
    """One environment variable of a service, as a build on Render would see it.

    `kind` says where the value comes from: "value" (written in the file), "generated"
    (`generateValue: true`: a fresh random value, as Render makes one at creation),
    "prompted" (`sync: false`: typed into the Dashboard, so `value` is None here),
    "database" / "service" (`fromDatabase` / `fromService`: only known on Render, so the
    value is a marked placeholder and `placeholder` is True). `secret` values must be
    masked in every output. `origin` is "service" or "group:<name>".
    """

    key: str
    value: str | None
    kind: str
    secret: bool
    origin: str
    placeholder: bool = False
    line: int = 0


@dataclass
class Group:
    """An environment group of the Blueprint: its variables, and the line it starts on."""

    name: str
    env_vars: list[EnvVar]
    line: int


class EnvVarReader:
    """Reads `envVarGroups` and each service's `envVars` (see the module docstring)."""

    def __init__(self, fields: Fields) -> None:
        self.fields = fields
        self.group_names: dict[str, int] = {}

    def groups(self, parent: LineMapping, field: str) -> dict[str, Group]:
        prefix = f"{field}.envVarGroups" if field else "envVarGroups"
        found: dict[str, Group] = {}
        for item, line, item_field in self.fields.sequence(parent, "envVarGroups", prefix):
            group = self.fields.mapping(item, line, item_field, "an environment group")
            self.fields.check_keys(group, {"name", "envVars"}, item_field, "an environment group")
            name = self.fields.text(group, "name", item_field)
            if not name:
                raise self.fields.error(
                    "environment group has no name",
                    line,
                    f"{item_field}.name",
                    hint="Add `name: my-group`; services attach it with `- fromGroup: my-group`.",
                )
            if name in self.group_names:
                raise self.fields.error(
                    f"environment group {name!r} is defined twice (first on line "
                    f"{self.group_names[name]})",
                    line,
                    f"{item_field}.name",
                    hint="Give each environment group a unique name.",
                )
            self.group_names[name] = line
            env_vars = self.env_vars(group, item_field, visible=None, origin=f"group:{name}")
            found[name] = Group(name, env_vars, line)
        return found

    # -- services -----------------------------------------------------------------------

    def env_vars(
        self,
        parent: LineMapping,
        field: str,
        visible: dict[str, Group] | None,
        origin: str,
    ) -> list[EnvVar]:
        """The variables of a service (visible: its groups) or of a group (visible: None).

        Variables from groups come first, in the order the groups are attached, and the
        service's own variables override them. Render documents that multiple groups merge
        in order; that a service's own value wins over a group's is how the Dashboard
        presents it, not something found in Render's docs.
        """
        in_group = visible is None
        from_groups: dict[str, EnvVar] = {}
        own: dict[str, EnvVar] = {}
        prefix = f"{field}.envVars"
        for item, line, item_field in self.fields.sequence(parent, "envVars", prefix):
            entry = self.fields.mapping(
                item,
                line,
                item_field,
                "an envVars item",
                hint="Write `- key: NAME` with `value: ...` on the next line, indented to "
                "line up with `key`.",
            )
            self.fields.check_keys(entry, ENV_VAR_KEYS, item_field, "an envVars item")
            if "fromGroup" in entry:
                if in_group:
                    raise self.fields.error(
                        "an environment group cannot include another group",
                        entry.key_lines["fromGroup"],
                        f"{item_field}.fromGroup",
                        hint="List the variables in the group itself.",
                    )
                assert visible is not None
                for var in self.from_group(entry, item_field, visible):
                    from_groups[var.key] = var
                continue
            var = self.env_var(entry, item_field, in_group, origin)
            if var.key in own:
                self.fields.warn(
                    f"{var.key} is defined twice (lines {own[var.key].line} and {var.line}); "
                    "the later one wins.",
                    var.line,
                    item_field,
                )
            own[var.key] = var
        merged = dict(from_groups)
        merged.update(own)
        return list(merged.values())

    def from_group(self, entry: LineMapping, field: str, visible: dict[str, Group]) -> list[EnvVar]:
        line = entry.key_lines["fromGroup"]
        others = [key for key in entry if key != "fromGroup"]
        if others:
            raise self.fields.error(
                f"a fromGroup item takes no other keys (found {', '.join(map(str, others))})",
                line,
                field,
                hint="Write `- fromGroup: my-group` alone; define variables in separate items.",
            )
        name = self.fields.text(entry, "fromGroup", field)
        if not name:
            raise self.fields.error(
                "fromGroup has no group name",
                line,
                f"{field}.fromGroup",
                hint="Write `- fromGroup: my-group`.",
            )
        if name not in visible:
            close = suggest(name or "", visible)
            if close:  # one letter from a group of this file: a typo, which Render would refuse
                raise self.fields.error(
                    f"unknown environment group {name!r}",
                    line,
                    f"{field}.fromGroup",
                    hint=f"Did you mean {close!r}? Groups this service can use: "
                    f"{', '.join(sorted(visible))}.",
                )
            # Render accepts a group created in the Dashboard (its example Blueprints do this):
            # its variables exist only there, so they are unknown here.
            self.fields.warn(
                f"environment group {name!r} is not defined in this file: Render uses it if it "
                "exists in the Dashboard, and its variables are unknown here; pass the ones the "
                "build needs with --env-file",
                line,
                f"{field}.fromGroup",
            )
            return []
        return visible[name].env_vars

    def env_var(self, entry: LineMapping, field: str, in_group: bool, origin: str) -> EnvVar:
        line = entry.line
        key = self.fields.text(entry, "key", field)
        if not key:
            raise self.fields.error(
                "envVars item has no key",
                line,
                f"{field}.key",
                hint="Write each variable as `- key: NAME` followed by `value: ...` (or "
                "generateValue: true, sync: false, fromDatabase, fromService).",
            )
        if "=" in key or "\x00" in key:
            raise self.fields.error(
                f"{key!r} cannot be an environment variable name",
                line,
                f"{field}.key",
                hint="Use letters, digits and underscores, e.g. DATABASE_URL.",
            )
        forms = [name for name in VALUE_FORMS if name in entry]
        sync = entry.get("sync", True)
        if "sync" in entry and not isinstance(sync, bool):
            raise self.fields.error(
                f"{key}: sync must be true or false", entry.key_lines["sync"], f"{field}.sync"
            )
        if sync is False:
            forms.append("sync: false")
        if len(forms) > 1:
            raise self.fields.error(
                f"{key} sets {' and '.join(forms)}: use only one of them",
                line,
                field,
                hint="A variable gets its value one way: value, generateValue: true, "
                "sync: false (typed in the Dashboard), fromDatabase or fromService.",
            )
        if in_group and forms and forms[0] in ("fromDatabase", "fromService", "sync: false"):
            raise self.fields.error(
                f"{key}: environment groups cannot use {forms[0]}",
                line,
                field,
                hint="Render allows only value and generateValue in groups: move this "
                "variable to the services that need it.",
            )
        if not forms:
            raise self.fields.error(
                f"{key} has no value",
                line,
                field,
                hint="Add `value: ...`, `generateValue: true`, `sync: false`, `fromDatabase` "
                "or `fromService`.",
            )
        form = forms[0]
        if form == "value":
            return self.plain_value(entry, key, field, origin)
        if form == "generateValue":
            generate = entry["generateValue"]
            if generate is not True:
                raise self.fields.error(
                    f"{key}: generateValue must be true (remove it to give a value instead)",
                    entry.key_lines["generateValue"],
                    f"{field}.generateValue",
                )
            # Render generates a base64-encoded 256-bit value; a fresh one per run here.
            value = base64.b64encode(secrets.token_bytes(32)).decode("ascii")
            return EnvVar(key, value, "generated", True, origin, line=line)
        if form == "sync: false":
            self.fields.warn(
                f"{key} has sync: false: Render asks for its value in the Dashboard, so "
                "render-sim has none; pass it with --env-file.",
                line,
                field,
            )
            return EnvVar(key, None, "prompted", True, origin, line=line)
        if form == "fromDatabase":
            name, prop = self.reference(
                entry, "fromDatabase", field, key, ("name", "property"), DATABASE_PROPERTIES
            )
            value = f"{PLACEHOLDER_PREFIX}:fromDatabase:{name}.{prop}"
            return EnvVar(key, value, "database", False, origin, placeholder=True, line=line)
        name, prop = self.reference(
            entry, "fromService", field, key, ("name", "type"), SERVICE_PROPERTIES
        )
        value = f"{PLACEHOLDER_PREFIX}:fromService:{name}.{prop}"
        return EnvVar(key, value, "service", False, origin, placeholder=True, line=line)

    def plain_value(self, entry: LineMapping, key: str, field: str, origin: str) -> EnvVar:
        value = entry["value"]
        line = entry.key_lines["value"]
        if value is None:
            raise self.fields.error(
                f"{key} has an empty value",
                line,
                f"{field}.value",
                hint='Write `value: ""` for an empty string, or give the value.',
            )
        if isinstance(value, (LineMapping, LineSequence)):
            raise self.fields.error(
                f"{key}: value must be a string or a number, not {kind_of(value)}",
                line,
                f"{field}.value",
                hint='Quote the value if it holds YAML punctuation, e.g. value: "a: b".',
            )
        text = entry.raw.get("value", str(value))
        return EnvVar(key, text, "value", False, origin, line=entry.line)

    def reference(
        self,
        entry: LineMapping,
        form: str,
        field: str,
        key: str,
        required: tuple[str, ...],
        properties: tuple[str, ...],
    ) -> tuple[str, str]:
        """Check a fromDatabase/fromService mapping; return (name, property or envVarKey)."""
        line = entry.key_lines[form]
        ref_field = f"{field}.{form}"
        ref = self.fields.mapping(entry[form], line, ref_field, form)
        needs = [n for n in required if n != "property"]
        needs.append("property or envVarKey" if form == "fromService" else "property")
        for needed in required:
            if not self.fields.text(ref, needed, ref_field):
                raise self.fields.error(
                    f"{key}: {form} has no {needed}",
                    ref.line,
                    f"{ref_field}.{needed}",
                    hint=f"{form} needs {', '.join(needs[:-1])} and {needs[-1]}.",
                )
        name = self.fields.text(ref, "name", ref_field) or ""
        prop = self.fields.text(ref, "property", ref_field)
        env_key = self.fields.text(ref, "envVarKey", ref_field) if form == "fromService" else None
        if prop is not None and env_key is not None:
            raise self.fields.error(
                f"{key}: fromService takes property or envVarKey, not both",
                ref.line,
                ref_field,
            )
        if env_key is not None:
            return name, env_key
        if prop is None:
            raise self.fields.error(
                f"{key}: {form} has no property",
                ref.line,
                f"{ref_field}.property",
                hint=f"Add `property:` ({', '.join(properties)})"
                + (" or `envVarKey:`." if form == "fromService" else "."),
            )
        if prop not in properties:
            raise self.fields.error(
                f"{key}: {form} property {prop!r} is not one Render provides",
                ref.key_lines.get("property", ref.line),
                f"{ref_field}.property",
                hint=choices_hint(prop, properties),
            )
        return name, prop
