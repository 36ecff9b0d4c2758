"""``qjgeo app``: start the planner's app (Streamlit) from an installed package, printing its URL."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from qjgeo.commands._common import fail
from qjgeo.places import PlacesError, working_copy_path, working_dataset_dir

PortOption = Annotated[int, typer.Option("--port", min=1, max=65535, help="TCP port of the app.")]
HostOption = Annotated[
    str,
    typer.Option(
        "--host",
        help="Address to listen on: localhost (this PC only) or 0.0.0.0 (an intranet server; "
        "put it behind the bureau's reverse proxy, see the user guide).",
    ),
]


def app_command(
    data: Annotated[
        Path | None,
        typer.Option(
            "--data",
            help="Dataset directory (default: your working copy in the user data folder once "
            "something was imported, else the bundled Qujiang data).",
            show_default=False,
        ),
    ] = None,
    scenarios: Annotated[
        Path | None,
        typer.Option(
            "--scenarios",
            help="Scenario directory (default: scenarios/ in the user data folder).",
            show_default=False,
        ),
    ] = None,
    port: PortOption = 8501,
    host: HostOption = "localhost",
) -> None:
    """Start the app in a browser: 启动规划应用（浏览器打开所示网址；Ctrl+C 停止）."""
    from qjgeo.ui.launch import plan_launch, run_app

    for option, folder in (("--data", data), ("--scenarios", scenarios)):
        if folder is not None and not folder.is_dir():
            fail(f"{option} {folder}: no such directory")
    try:
        launch = plan_launch(data, scenarios, port, host)
    except (PlacesError, OSError) as exc:
        fail(str(exc))
    typer.echo(f"qjgeo 应用 / app: {launch.urls[0]}")
    for url in launch.urls[1:]:
        typer.echo(f"  其他电脑 / from other computers: {url}")
    shown = launch.env.get("QJGEO_DATA") or working_dataset_dir(create=False)
    typer.echo(f"  数据 / data: {shown}")
    if "QJGEO_DATA" not in launch.env:  # imports make (or use) the planner's working copy
        typer.echo(f"  导入写入 / imports go to: {working_copy_path()}")
    typer.echo(f"  方案 / scenarios: {launch.env['QJGEO_SCENARIOS']}")
    typer.echo("  停止 / stop: Ctrl+C")
    run_app(launch)


def register(app: typer.Typer) -> None:
    """Add the ``app`` command."""
    app.command("app")(app_command)
