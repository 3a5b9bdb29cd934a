"""The `render-sim` command line: options -> library call -> report. Nothing is decided here.

Failures go through one place (`main`): a typed error prints its message and hint and exits with
its code (README.md, "Exit codes").
"""

from __future__ import annotations

import signal
import sys
from dataclasses import replace
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from rich.markup import escape

from simulator import __version__
from simulator.build import doctor as doctor_mod
from simulator.build import engine, images
from simulator.build.simulation import build_image, diagnose, simulate_service
from simulator.check.preflight import check_repo
from simulator.check.service import explain_with_repo, planner_for
from simulator.cli.scenarios import scenarios_app
from simulator.diagnose.explain import explain_file
from simulator.errors import BUILD_FAILED, ImageUnavailableError, RenderSimError, UsageError
from simulator.index.client import PackageIndex
from simulator.plan.build_plan import Options, make_plan
from simulator.report import console as report
from simulator.report import github_actions
from simulator.report.check_view import check_to_json, print_check, print_planned
from simulator.report.diagnosis_view import diagnosis_to_json, print_diagnosis
from simulator.report.verify_view import print_start, print_verification
from simulator.units import parse_bytes, parse_date, parse_seconds
from simulator.verify.loop import verify_fix
from simulator.verify.network import network_hosts

app = typer.Typer(
    name="render-sim",
    help="Reproduce Render.com's native Python build locally in Docker, and diagnose it.",
    no_args_is_help=True,
    add_completion=True,  # --install-completion / --show-completion: bash, zsh, fish
    pretty_exceptions_enable=False,
)
images_app = typer.Typer(help="The build images render-sim makes.", no_args_is_help=True)
app.add_typer(images_app, name="images")
app.add_typer(scenarios_app, name="scenarios")


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"render-sim {__version__}")
        raise typer.Exit()


@app.callback()
def _main_options(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_print_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    """Reproduce Render.com's native Python build locally in Docker, and diagnose it."""


Repo = Annotated[
    Path, typer.Argument(help="The repo to simulate (default: the current directory).")
]
Json = Annotated[bool, typer.Option("--json", help="Machine-readable JSON on stdout.")]
Service = Annotated[
    str | None, typer.Option("--service", "-s", help="Only this service of render.yaml.")
]
BuildCommand = Annotated[
    str | None,
    typer.Option(
        "--build-command", help="Build command (for a repo without render.yaml, or to override)."
    ),
]
EnvFile = Annotated[
    Path | None, typer.Option("--env-file", help="KEY=VALUE file of extra (secret) env vars.")
]
Python = Annotated[
    str | None, typer.Option("--python", help="Like setting PYTHON_VERSION (X.Y.Z).")
]
Created = Annotated[
    str | None,
    typer.Option(
        "--created",
        help="The service's creation date YYYY-MM-DD (Render's default Python depends on it; default today).",
    ),
]
Memory = Annotated[str, typer.Option("--memory", help="Memory limit (Render: 8g).")]
Cpus = Annotated[float, typer.Option("--cpus", help="CPU limit (Render: 2).")]
Timeout = Annotated[
    str,
    typer.Option("--timeout", help="Total time limit: minutes, or 90s / 30m / 2h (Render: 120m)."),
]
IdleTimeout = Annotated[
    str, typer.Option("--idle-timeout", help="Stop after this long without output (0 = never).")
]
BaseImage = Annotated[
    str | None,
    typer.Option("--base-image", help="Build on this image instead of python:X.Y.Z-slim-bookworm."),
]
CaCert = Annotated[
    Path | None,
    typer.Option(
        "--ca-cert",
        help="CA bundle to trust inside (default: $PIP_CERT, $SSL_CERT_FILE or $REQUESTS_CA_BUNDLE).",
    ),
]
NoCa = Annotated[bool, typer.Option("--no-ca", help="Trust no extra CA bundle inside.")]
Offline = Annotated[
    bool,
    typer.Option(
        "--offline", help="Do not ask the package index to check fixes (cached facts only)."
    ),
]
NoPull = Annotated[
    bool,
    typer.Option(
        "--no-pull", help="Never pull base images; use local ones or bootstrap a stand-in."
    ),
]


_bytes = parse_bytes
_seconds = parse_seconds
_date = parse_date


Network = Annotated[
    str,
    typer.Option(
        "--network",
        help="Docker network the build joins instead of the internet ('none': no network).",
    ),
]


def _options(
    service: str | None,
    build_command: str | None,
    env_file: Path | None,
    python: str | None,
    created: str | None,
    memory: str,
    cpus: float,
    timeout: str,
    idle_timeout: str,
    base_image: str | None,
    ca_cert: Path | None,
    no_ca: bool,
) -> Options:
    if cpus <= 0:
        raise UsageError(f"--cpus {cpus} must be above 0")
    return Options(
        service=service,
        build_command=build_command,
        env_file=env_file,
        python=python,
        created=_date(created),
        memory_bytes=_bytes(memory),
        cpus=cpus,
        timeout_s=_seconds(timeout, "--timeout"),
        idle_timeout_s=_seconds(idle_timeout, "--idle-timeout"),
        base_image=base_image,
        ca_cert=ca_cert,
        no_ca=no_ca,
    )


@app.command()
def simulate(
    repo: Repo = Path("."),
    service: Service = None,
    json_out: Json = False,
    build_command: BuildCommand = None,
    env_file: EnvFile = None,
    python: Python = None,
    created: Created = None,
    memory: Memory = "8g",
    cpus: Cpus = 2.0,
    timeout: Timeout = "120m",
    idle_timeout: IdleTimeout = "30m",
    base_image: BaseImage = None,
    ca_cert: CaCert = None,
    no_ca: NoCa = False,
    no_pull: NoPull = False,
    offline: Offline = False,
    keep: Annotated[
        bool, typer.Option("--keep", help="Keep the container for inspection (debug).")
    ] = False,
    network: Network = "",
    no_cache: Annotated[
        bool,
        typer.Option("--no-cache", help="Use no build cache (every run is a first deploy)."),
    ] = False,
    clear_cache: Annotated[
        bool,
        typer.Option(
            "--clear-cache",
            help="Empty the build cache first (Render: 'Clear build cache & deploy').",
        ),
    ] = False,
    verify: Annotated[
        bool,
        typer.Option(
            "--verify-fix",
            help="If the build fails, try the fixes (planned and checked with pip's resolver, "
            "then the diagnosis's) on a copy of the repo until one builds: exit 0 when one passes.",
        ),
    ] = False,
) -> None:
    """Run the service's build as Render would, stream its log, and report how it ended."""
    options = _options(
        service,
        build_command,
        env_file,
        python,
        created,
        memory,
        cpus,
        timeout,
        idle_timeout,
        base_image,
        ca_cert,
        no_ca,
    )
    options = replace(options, network=network, build_cache=not no_cache, clear_cache=clear_cache)
    console = report.stderr_console() if json_out else report.stdout_console()
    client = engine.connect()
    plan = make_plan(repo, options, client=client)
    if verify and len(plan.services) > 1:
        names = ", ".join(s.name for s in plan.services)
        raise UsageError(
            f"--verify-fix verifies one service, and {plan.blueprint} has {len(plan.services)}",
            hint=f"pass --service NAME ({names})",
        )
    report.print_plan(plan, console)
    results = []
    verification = None
    for service_plan in plan.services:
        with console.status("preparing the build image…") as status:
            image, base = build_image(
                client,
                plan,
                service_plan,
                base_image=base_image,
                pull=not no_pull,
                progress=lambda m: status.update(f"image: {m}"),
            )
        result = simulate_service(
            client,
            plan,
            service_plan,
            image=image,
            base=base,
            echo=report.make_echo(console),
            keep=keep,
        )
        if not result.succeeded:
            with console.status("diagnosing…"):
                result.diagnosis = diagnose(
                    plan, service_plan, result, PackageIndex(offline=offline)
                )
        report.print_result(result, console)
        if result.diagnosis is not None:
            print_diagnosis(result.diagnosis, console)
        results.append(result)
        if verify:
            planner = None if offline else planner_for(network_hosts(client, network))
            with console.status("verifying the fix…") as status:
                verification = verify_fix(
                    client,
                    plan,
                    service_plan,
                    result,
                    options,
                    base_image=base_image,
                    pull=not no_pull,
                    keep=keep,
                    echo=report.make_echo(console),
                    progress=lambda m: status.update(f"image: {m}"),
                    on_start=lambda n, f, c, r: print_start(console, n, f, c, r),
                    index=PackageIndex(offline=offline),
                    planner=planner,
                )
            if verification.result is not None:
                report.print_result(verification.result, console)
            print_verification(verification, console)
    data: dict[str, Any] = {"plan": plan.to_dict(), "results": [r.to_dict() for r in results]}
    if verification is not None:
        data["verify_fix"] = verification.to_dict()
    if json_out:
        report.print_json(data)
    github_actions.publish_build(data, json_out=json_out)
    if verification is not None:
        raise typer.Exit(0 if verification.passed else BUILD_FAILED)
    if not all(r.succeeded for r in results):
        raise typer.Exit(BUILD_FAILED)


@app.command()
def plan(
    repo: Repo = Path("."),
    service: Service = None,
    json_out: Json = False,
    build_command: BuildCommand = None,
    env_file: EnvFile = None,
    python: Python = None,
    created: Created = None,
    memory: Memory = "8g",
    cpus: Cpus = 2.0,
    timeout: Timeout = "120m",
    idle_timeout: IdleTimeout = "30m",
    base_image: BaseImage = None,
    ca_cert: CaCert = None,
    no_ca: NoCa = False,
) -> None:
    """Show what `simulate` would do, and how this run differs from Render (no build)."""
    options = _options(
        service,
        build_command,
        env_file,
        python,
        created,
        memory,
        cpus,
        timeout,
        idle_timeout,
        base_image,
        ca_cert,
        no_ca,
    )
    try:
        client: Any = engine.connect()
    except RenderSimError:
        client = None  # the plan does not need an engine; it then predicts the image
    built = make_plan(repo, options, client=client)
    if json_out:
        report.print_json(built.to_dict())
    else:
        report.print_plan(built, report.stdout_console())
    if any(service.buildable_here is False for service in built.services):
        raise typer.Exit(ImageUnavailableError.return_code)  # what simulate would stop with


@app.command()
def explain(
    log: Annotated[
        str,
        typer.Argument(help="A build log file (copied from Render's dashboard), or - for stdin."),
    ] = "-",
    json_out: Json = False,
    offline: Offline = False,
    repo: Annotated[
        Path | None,
        typer.Option(
            "--repo",
            help="The repo the log is from: its service's Python is known, and the fixes for "
            "the whole service are planned and checked with pip's resolver.",
        ),
    ] = None,
    service: Service = None,
) -> None:
    """Diagnose a build log: what failed, which package, why, and the fix (no Docker)."""
    index = PackageIndex(offline=offline)
    planned = None
    if repo is None:
        diagnosis = explain_file(log, index=index)
    else:
        diagnosis, planned = explain_with_repo(log, repo, service, index, plan=not offline)
    if json_out:
        data = diagnosis_to_json(diagnosis)
        if planned is not None:
            data["planned_fixes"] = planned.to_dict()
        report.print_json(data)
        return
    console = report.stdout_console()
    print_diagnosis(diagnosis, console)
    if planned is not None:
        print_planned(planned, console)


@app.command()
def check(
    repo: Repo = Path("."),
    service: Service = None,
    json_out: Json = False,
    build_command: BuildCommand = None,
    env_file: EnvFile = None,
    python: Python = None,
    created: Created = None,
    index_url: Annotated[
        str | None,
        typer.Option(
            "--index-url", help="Package index (default: the requirements' own, else PyPI)."
        ),
    ] = None,
) -> None:
    """List the packages pip would build from source on Render (no Docker, seconds); exit 1 if any."""
    options = Options(
        service=service,
        build_command=build_command,
        env_file=env_file,
        python=python,
        created=_date(created),
        probe_network=False,
    )
    console = report.stderr_console() if json_out else report.stdout_console()
    with console.status("resolving wheels-only for Render's Python…"):
        result = check_repo(repo, options, index_url=index_url)
    if json_out:
        report.print_json(check_to_json(result))
    else:
        print_check(result, console)
    raise typer.Exit(result.exit_code)


@app.command()
def doctor(json_out: Json = False) -> None:
    """Check the Docker engine, images, CA bundle and network, and list differences from Render."""
    checks = doctor_mod.run_checks()
    if json_out:
        report.print_json(doctor_mod.to_dict(checks))
    else:
        doctor_mod.print_checks(checks, report.stdout_console())
    if any(c.status == "fail" for c in checks):
        raise typer.Exit(doctor_mod.exit_code(checks))


@app.command()
def clean(json_out: Json = False) -> None:
    """Remove every container and volume render-sim created (by label), and only those."""
    containers, volumes = engine.clean(engine.connect())
    if json_out:
        report.print_json({"containers": containers, "volumes": volumes})
    else:
        report.stdout_console().print(
            f"removed {len(containers)} container(s) and {len(volumes)} volume(s)"
        )


@images_app.command("list")
def images_list(json_out: Json = False) -> None:
    """The images render-sim built or bootstrapped."""
    found = images.list_images(engine.connect())
    if json_out:
        report.print_json([vars(i) for i in found])
        return
    console = report.stdout_console()
    for info in found:
        console.print(
            f"{info.tag:55} {info.kind:8} {info.render_python or info.python:8} {info.size_mb:6} MB  {info.created}"
        )
    if not found:
        console.print("no render-sim images yet (`render-sim images build`)")


@images_app.command("build")
def images_build(
    repo: Repo = Path("."),
    service: Service = None,
    python: Python = None,
    created: Created = None,
    base_image: BaseImage = None,
    ca_cert: CaCert = None,
    no_ca: NoCa = False,
    no_pull: NoPull = False,
    json_out: Json = False,
) -> None:
    """Build the image(s) a simulation of REPO needs, without running the build."""
    options = Options(
        service=service,
        python=python,
        created=_date(created),
        base_image=base_image,
        ca_cert=ca_cert,
        no_ca=no_ca,
        build_command=None,
    )
    client = engine.connect()
    built = make_plan(repo, options, client=client)
    console = report.stderr_console() if json_out else report.stdout_console()
    tags = []
    for service_plan in built.services:
        with console.status("building…") as status:
            tag, _ = build_image(
                client,
                built,
                service_plan,
                base_image=base_image,
                pull=not no_pull,
                progress=lambda m: status.update(m),
            )
        tags.append(tag)
        if not json_out:
            console.print(f"{service_plan.name}: {tag}")
    if json_out:
        report.print_json({"images": tags})


@images_app.command("prune")
def images_prune(json_out: Json = False) -> None:
    """Remove render-sim's images (they are rebuilt when next needed)."""
    removed = images.prune_images(engine.connect())
    if json_out:
        report.print_json({"removed": removed})
    else:
        report.stdout_console().print(f"removed {len(removed)} image(s)")


def _fail(error: RenderSimError, json_out: bool) -> NoReturn:
    if json_out:
        report.print_json(
            {
                "error": {
                    "code": error.return_code,
                    "kind": type(error).__name__,
                    "message": str(error),
                    "hint": error.hint,
                }
            }
        )
    else:
        console = report.stderr_console()
        # soft_wrap: the terminal wraps; a path or file:line is never broken by a hard newline
        console.print(f"[bold red]error:[/] {escape(str(error))}", soft_wrap=True)
        if error.hint:
            console.print(f"[bold]fix:[/] {escape(error.hint)}", soft_wrap=True)
    sys.exit(error.return_code)


#: Commands that start containers: only their interruption has containers to speak of.
CONTAINER_COMMANDS = frozenset({"simulate", "scenarios", "images", "clean"})


def _interrupted_note(argv: list[str]) -> str:
    """What an interruption leaves behind, for the command that was running."""
    command = next((word for word in argv[1:] if not word.startswith("-")), "")
    if command in CONTAINER_COMMANDS:
        return ": any build container and its volumes were removed"
    return " (this command starts no container: nothing to clean up)"


def _terminate(_signum: int, _frame: Any) -> None:
    raise KeyboardInterrupt  # SIGTERM cleans up like Ctrl-C: containers and volumes removed


def main() -> None:
    """Entry point: run the app and turn typed errors into their exit codes."""
    signal.signal(signal.SIGTERM, _terminate)
    # Ctrl-C always cleans up, even when started from a shell that ignores SIGINT (`cmd &`)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    json_out = "--json" in sys.argv
    try:
        # prog_name: `python -m simulator` is render-sim too (also for shell completion's name)
        code = app(prog_name="render-sim", standalone_mode=False)  # Ctrl-C: exit code 130
    except RenderSimError as error:
        _fail(error, json_out)
    except (KeyboardInterrupt, typer.Abort):
        code = 130
    except typer.TyperException as error:  # usage: unknown option, bad value, ...
        show = getattr(error, "show", None)
        if show:
            show()
        sys.exit(UsageError.return_code)
    if code == 130:
        # Already stopping, with the build removed: a second Ctrl-C or SIGTERM must not turn
        # this exit into a traceback or a kill by signal.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        report.stderr_console().print(f"[bold yellow]interrupted[/]{_interrupted_note(sys.argv)}")
    sys.exit(code if isinstance(code, int) else 0)


if __name__ == "__main__":
    main()
