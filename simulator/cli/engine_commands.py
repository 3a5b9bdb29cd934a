"""`render-sim doctor`, `clean` and `images list|build|prune`: the engine and render-sim's images."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from simulator.build import doctor as doctor_mod
from simulator.build import endpoints, images, ownership
from simulator.build.simulation import build_image
from simulator.cli.options import (
    BaseImage,
    CaCert,
    Created,
    Json,
    NoCa,
    NoPull,
    Python,
    Repo,
    Service,
)
from simulator.plan.build_plan import make_plan
from simulator.plan.models import Options
from simulator.report import console as report
from simulator.report.clean_view import print_sweep
from simulator.units import parse_date

images_app = typer.Typer(help="The build images render-sim makes.", no_args_is_help=True)


def doctor(json_out: Json = False) -> None:
    """Check the Docker engine, images, CA bundle and network, and list differences from Render."""
    checks = doctor_mod.run_checks()
    if json_out:
        report.print_json(doctor_mod.to_dict(checks))
    else:
        doctor_mod.print_checks(checks, report.stdout_console())
    if any(c.status == "fail" for c in checks):
        raise typer.Exit(doctor_mod.exit_code(checks))


def clean(
    json_out: Json = False,
    everything: Annotated[
        bool,
        typer.Option(
            "--all",
            help="Also remove live builds, runs kept with --keep, runs of other hosts and the "
            "build caches: every container and volume render-sim created.",
        ),
    ] = False,
) -> None:
    """Remove the containers and volumes of dead render-sim runs (by label), and only those."""
    sweep = ownership.clean(endpoints.connect(), everything=everything)
    if json_out:
        report.print_json(sweep.to_dict())
    else:
        print_sweep(sweep, report.stdout_console())


@images_app.command("list")
def images_list(json_out: Json = False) -> None:
    """The images render-sim built or bootstrapped."""
    found = images.list_images(endpoints.connect())
    if json_out:
        report.print_json({"images": [vars(i) for i in found]})
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
        created=parse_date(created),
        base_image=base_image,
        ca_cert=ca_cert,
        no_ca=no_ca,
        build_command=None,
    )
    client = endpoints.connect()
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
    removed = images.prune_images(endpoints.connect())
    if json_out:
        report.print_json({"removed": removed})
    else:
        report.stdout_console().print(f"removed {len(removed)} image(s)")
