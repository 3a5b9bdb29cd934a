"""How a change is told to the user: YAML snippets for render.yaml, where to click in Render."""

from __future__ import annotations

import json

import yaml

from simulator.config.env_vars import EnvVar

DASHBOARD = "the service's Environment page in the Render Dashboard"


def yaml_scalar(value: str) -> str:
    """`value` as a YAML scalar that reads back as the same string (quoted when needed)."""
    try:
        plain = yaml.safe_load(f"k: {value}") == {"k": value}
    except yaml.YAMLError:
        plain = False
    return value if plain and value.strip() == value else json.dumps(value)


def env_instructions(
    key: str, value: str, service: str, blueprint: str | None, existing: EnvVar | None
) -> str:
    """Where to set `key` = `value` for the service on Render, as exact as the repo allows."""
    entry = f"  - key: {key}\n    value: {yaml_scalar(value)}"
    dashboard = f"{key}={value} in {DASHBOARD}"
    if blueprint is None:
        return f"set {dashboard} (the repo has no render.yaml)"
    if existing is not None and existing.origin.startswith("group:"):
        group = existing.origin.split(":", 1)[1]
        return (
            f"{blueprint} sets {key} in env group {group}: change its value there to "
            f"{yaml_scalar(value)}, or set {dashboard}"
        )
    if existing is not None and existing.kind == "value":
        line = f" (line {existing.line})" if existing.line else ""
        return (
            f"in {blueprint}, under service {service}, change the envVars entry for {key}{line} "
            f"to:\n{entry}\nor set {dashboard}"
        )
    if existing is not None:
        return f"{blueprint} leaves {key} to the Dashboard: set {dashboard}"
    return f"add to {blueprint}, under service {service}, envVars:\n{entry}\nor set {dashboard}"


def build_command_instructions(command: str, service: str, blueprint: str | None) -> str:
    """Where to change the service's build command on Render."""
    dashboard = "the Build Command in the service's Settings in the Render Dashboard"
    if blueprint is None:
        return f"set {dashboard} to: {command}"
    return (
        f"in {blueprint}, under service {service}, set:\n  buildCommand: {yaml_scalar(command)}\n"
        f"(or {dashboard})"
    )


def root_dir_instructions(value: str, service: str, blueprint: str | None) -> str:
    """Where to set the service's Root Directory on Render."""
    dashboard = "the Root Directory in the service's Settings in the Render Dashboard"
    if blueprint is None:
        return f"set {dashboard} to: {value}"
    return f"in {blueprint}, under service {service}, set:\n  rootDir: {yaml_scalar(value)}\n(or {dashboard})"
