"""`render-sim doctor`: is this machine ready to simulate, and how will it differ from Render?

Each check is plain data (name, status, detail, fix). Statuses: ok, warn (works, but differs
from Render or will be slow), fail (simulate cannot work until fixed).
"""

from __future__ import annotations

import contextlib
import shutil
from dataclasses import asdict, dataclass
from typing import Any

from rich.console import Console
from rich.markup import escape

from simulator.build import endpoints, images, ownership
from simulator.build.container import DEADLINE_GRACE_S, BuildContainer
from simulator.errors import RenderSimError, SandboxUnavailableError
from simulator.plan import base_images, engine_limits, machine
from simulator.plan import build_plan as plan
from simulator.plan import models as plan_models
from simulator.plan.machine import Limits
from simulator.units import size_text

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
        checks.append(_disk_check(client))
        if builds:
            checks += _sandbox_probe(client, builds[0].tag)
        dead = ownership.dead_runs(client)
        if dead:
            checks.append(
                Check(
                    "leftovers",
                    "warn",
                    f"{len(dead)} container(s)/volume(s) of runs whose render-sim process is "
                    "gone (the next simulate removes them too)",
                    "render-sim clean",
                )
            )
    offline = sorted(
        base_images.standin_suites().pythons, key=lambda v: tuple(map(int, v.split(".")))
    )
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
    left_out = [f"{t.name} ({t.why})" for t in base_images.build_tools() if not t.installed]
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


def _disk_check(client: Any) -> Check:
    limit = size_text(Limits().disk_bytes)
    if engine_limits.volume_quota_supported(client):
        return Check("disk limit", "ok", f"the engine bounds each build volume at {limit}")
    return Check(
        "disk limit",
        "warn",
        "this engine cannot bound a volume's size (local volumes need an xfs data root with "
        f"project quotas): render-sim measures the build's writable space every "
        f"{machine.MIN_MEASURE_S:g}-{machine.MAX_MEASURE_S:g} s and stops the build past "
        f"{limit}, as Render cancels it",
    )


def _sandbox_probe(client: Any, image: str) -> list[Check]:
    """What a build container may do and reach (with the CA bundle render-sim gives it)."""
    ca, _ = plan.find_ca_cert(None)
    env = {"PATH": plan_models.BASE_PATH}
    if ca:
        env["CURL_CA_BUNDLE"] = plan_models.CA_IN_IMAGE
    limits = Limits(memory_bytes=256 * 1024**2, cpus=1, timeout_s=60, idle_timeout_s=0)
    out = []
    labels = {"render-sim.doctor": "1"}
    try:
        box = BuildContainer(client, image, limits=limits, labels=labels).__enter__()
    except SandboxUnavailableError as error:
        return [Check("host isolation", "fail", str(error), error.hint or "", error.return_code)]
    with contextlib.ExitStack() as stack:
        stack.push(box)
        _, status = box.call(["sh", "-c", "grep -E '^(CapEff|NoNewPrivs):' /proc/self/status"])
        fields = dict(line.split(":\t", 1) for line in status.splitlines() if ":\t" in line)
        _, pids = box.call(
            ["sh", "-c", "cat /sys/fs/cgroup/pids/pids.max /sys/fs/cgroup/pids.max 2>/dev/null"]
        )
        caps = fields.get("CapEff", "?").strip()
        confined = caps.strip("0") == "" and fields.get("NoNewPrivs", "").strip() == "1"
        limited = pids.strip() == str(machine.PIDS_LIMIT)
        out.append(
            Check(
                "build privileges",
                "ok" if confined and limited else "warn",
                f"capabilities {caps} (none wanted), no-new-privileges "
                f"{'on' if confined else 'off'}, read-only root filesystem; process limit "
                + (
                    f"{machine.PIDS_LIMIT} (processes and threads)"
                    if limited
                    else f"{pids.strip() or 'none'}: this engine cannot set it, a fork bomb "
                    "in the build reaches the host"
                ),
            )
        )
        out.append(_isolation_check(box))
        out.append(
            Check(
                "time limits",
                "ok",
                "they hold without render-sim: the container's PID 1 ends it "
                f"{DEADLINE_GRACE_S:g} s after the time limit, and the build command's exec "
                f"{DEADLINE_GRACE_S / 2:g} s after it",
            )
        )
        for name, url, consequence in NETWORK_PROBES:
            code, text = box.call(["curl", "-sS", "-o", "/dev/null", "-m", "10", url], env=env)
            status, detail = ("ok", url) if code == 0 else ("warn", f"{url}: {text.strip()[:160]}")
            if code != 0:
                detail += f"; {consequence or CRATES_DOWN}"
            out.append(Check(f"container reaches {name}", status, detail))
    return out


def _isolation_check(box: BuildContainer) -> Check:
    isolation = box.isolation
    if isolation is None:
        return Check("host isolation", "warn", "not set up (the build joins another network)")
    detail = (
        f"the build cannot reach the host's own services: {len(isolation.rejected)} "
        f"networks rejected ({', '.join(isolation.rejected[:4])}, ...)"
    )
    if isolation.gaps:
        return Check("host isolation", "warn", detail + "; but " + "; ".join(isolation.gaps))
    return Check("host isolation", "ok", detail)


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
