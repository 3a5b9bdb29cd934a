"""`render-sim doctor`: is this machine ready to simulate, and how will it differ from Render?

Each check is plain data (name, status, detail, fix). Statuses: ok, warn (works, but differs
from Render or will be slow), fail (simulate cannot work until fixed).
"""

from __future__ import annotations

import shutil
from dataclasses import asdict, dataclass
from typing import Any

from rich.console import Console
from rich.markup import escape

from simulator import engine, images, plan
from simulator.errors import DockerUnavailableError, RenderSimError

STATUS_STYLE = {"ok": "green", "warn": "yellow", "fail": "bold red"}


@dataclass(frozen=True)
class Check:
    name: str
    status: str  # ok | warn | fail
    detail: str
    fix: str = ""
    code: int = 0  # the exit code this failure maps to


def run_checks() -> list[Check]:
    """Every check, in the order a user would fix things."""
    checks: list[Check] = []
    try:
        client = engine.connect()
        version = client.version()
        checks.append(
            Check(
                "docker engine",
                "ok",
                f"Docker {version.get('Version')} (API {version.get('ApiVersion')})",
            )
        )
    except RenderSimError as error:
        checks.append(
            Check(
                "docker engine",
                "fail",
                str(error),
                error.hint or "",
                DockerUnavailableError.return_code,
            )
        )
        client = None
    if client is not None:
        built = images.list_images(client)
        builds = [i for i in built if i.kind == "build"]
        detail = (
            ", ".join(f"{i.render_python} ({i.size_mb} MB)" for i in builds)
            or "none yet: the first simulate builds one (about a minute)"
        )
        checks.append(Check("build images", "ok", detail))
        containers, volumes = engine.leftovers(client)
        if containers or volumes:
            checks.append(
                Check(
                    "leftovers",
                    "warn",
                    f"{len(containers)} container(s), {len(volumes)} volume(s) with render-sim's label (a simulation may be running)",
                    "render-sim clean",
                )
            )
    offline = sorted(images.standin_suites().pythons, key=lambda v: tuple(map(int, v.split("."))))
    if shutil.which("mmdebstrap"):
        checks.append(
            Check(
                "offline stand-ins",
                "ok",
                f"mmdebstrap present: Python {', '.join(offline)} can be bootstrapped without a registry",
            )
        )
    else:
        checks.append(
            Check(
                "offline stand-ins",
                "warn",
                "mmdebstrap missing: without a registry no base image can be made",
                "apt-get install mmdebstrap",
            )
        )
    ca, source = plan.find_ca_cert(None)
    if ca:
        checks.append(
            Check(
                "CA bundle",
                "ok",
                f"{ca} (from {source}) is given to pip, uv, cargo and curl inside",
            )
        )
    else:
        checks.append(
            Check(
                "CA bundle",
                "ok",
                "none detected: the container trusts its own CA store (pass --ca-cert behind a TLS-inspecting proxy)",
            )
        )
    if plan.crates_io_reachable():
        checks.append(
            Check(
                "crates.io",
                "ok",
                "reachable: Rust source builds fail on the read-only /usr/local/cargo as on Render",
            )
        )
    else:
        checks.append(
            Check(
                "crates.io",
                "warn",
                "not reachable: a Rust source build here fails on the network after cargo's retries "
                "(about 11 s) where Render fails at once with `Read-only file system (os error 30)`",
            )
        )
    left_out = [f"{t.name} ({t.why})" for t in images.build_tools() if not t.installed]
    checks.append(
        Check(
            "build tools", "warn", "on Render but not in render-sim's image: " + "; ".join(left_out)
        )
    )
    return checks


def exit_code(checks: list[Check]) -> int:
    return next((c.code for c in checks if c.status == "fail" and c.code), 1)


def to_dict(checks: list[Check]) -> dict[str, Any]:
    return {
        "checks": [asdict(c) for c in checks],
        "ok": not any(c.status == "fail" for c in checks),
    }


def print_checks(checks: list[Check], console: Console) -> None:
    for check in checks:
        style = STATUS_STYLE[check.status]
        console.print(
            f"[{style}]{check.status:>4}[/]  [bold]{check.name}[/]: {escape(check.detail)}"
        )
        if check.fix:
            console.print(f"      fix: {escape(check.fix)}")
