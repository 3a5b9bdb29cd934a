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

from simulator.build import endpoints, engine, images
from simulator.errors import RenderSimError
from simulator.plan import build_plan as plan

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
        endpoint = endpoints.resolve()
        # which engine, and why that one (--context, DOCKER_HOST, DOCKER_CONTEXT, docker context use)
        checks.append(Check("docker endpoint", "ok", endpoint.describe()))
        client = endpoints.connect(endpoint)
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
                error.return_code,  # 4: no engine answers; 2: an unknown context
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
        if builds:
            checks += _container_network(client, builds[0].tag)
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
    if not any(c.name.startswith("container reaches") for c in checks):
        reachable = plan.crates_io_reachable()
        status, detail = ("ok", "reachable from this host") if reachable else ("warn", CRATES_DOWN)
        checks.append(Check("crates.io", status, detail))
    left_out = [f"{t.name} ({t.why})" for t in images.build_tools() if not t.installed]
    checks.append(
        Check(
            "build tools", "warn", "on Render but not in render-sim's image: " + "; ".join(left_out)
        )
    )
    return checks


CRATES_DOWN = (
    "crates.io not reachable: a Rust source build fails here on the network (cargo's retries are "
    "turned off, so in seconds) where Render fails with `Read-only file system (os error 30)`"
)
NETWORK_PROBES = (
    (
        "PyPI",
        "https://pypi.org/simple/pip/",
        "pip cannot download packages: builds fail at `Collecting ...`",
    ),
    ("crates.io", "https://index.crates.io/config.json", ""),  # consequence: CRATES_DOWN
)


def _container_network(client: Any, image: str) -> list[Check]:
    """What a build container can reach (with the CA bundle render-sim gives it)."""
    ca, _ = plan.find_ca_cert(None)
    env = {"PATH": plan.BASE_PATH}
    if ca:
        env["CURL_CA_BUNDLE"] = plan.CA_IN_IMAGE
    limits = engine.Limits(memory_bytes=256 * 1024**2, cpus=1, timeout_s=60, idle_timeout_s=0)
    out = []
    labels = {"render-sim.doctor": "1"}
    with engine.BuildContainer(client, image, limits=limits, labels=labels) as box:
        for name, url, consequence in NETWORK_PROBES:
            code, text = box.call(["curl", "-sS", "-o", "/dev/null", "-m", "10", url], env=env)
            status, detail = ("ok", url) if code == 0 else ("warn", f"{url}: {text.strip()[:160]}")
            if code != 0:
                detail += f"; {consequence or CRATES_DOWN}"
            out.append(Check(f"container reaches {name}", status, detail))
    return out


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
