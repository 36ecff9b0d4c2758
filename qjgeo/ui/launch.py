"""Start the app from an installed package: what ``make run`` does, without make (``qjgeo app``).

启动应用：安装后的 qjgeo 用 ``qjgeo app`` 启动，不需要仓库或 make。

The app's entry script and the vendored map assets are bundled files
(:func:`qjgeo.places.bundled_path`): ``app.py`` with ``static/vendor/`` beside it, so
Streamlit's static file serving (``<script dir>/static/`` at ``<server>/app/static/``) serves the
map assets offline, from a checkout and from an installed wheel alike. The Streamlit settings
come from the bundled ``.streamlit/config.toml`` — the one file ``make run`` also reads — passed
as command-line options, so they hold whatever folder the app is started from.
"""

from __future__ import annotations

import os
import socket
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from qjgeo import places

__all__ = ["AppLaunch", "app_urls", "plan_launch", "run_app", "streamlit_options"]

#: The environment variables the app reads its folders from (see :mod:`qjgeo.ui.cache`).
DATA_ENV = "QJGEO_DATA"
SCENARIOS_ENV = "QJGEO_SCENARIOS"
MONITORING_ENV = "QJGEO_MONITORING"


@dataclass(frozen=True)
class AppLaunch:
    """Everything one start of the app needs: the script, its options, its folders.

    Attributes
    ----------
    script : pathlib.Path
        The bundled ``app.py``.
    options : dict of str to str
        Streamlit options (``"server.port"`` → ``"8501"`` …).
    env : dict of str to str
        ``QJGEO_DATA``, ``QJGEO_SCENARIOS``, ``QJGEO_MONITORING`` for the app.
    urls : list of str
        Where a browser reaches the app.
    """

    script: Path
    options: dict[str, str]
    env: dict[str, str]
    urls: list[str]


def _flatten(table: Mapping[str, Any], prefix: str = "") -> dict[str, str]:
    out: dict[str, str] = {}
    for key, value in table.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            out.update(_flatten(value, f"{name}."))
        elif isinstance(value, bool):
            out[name] = "true" if value else "false"
        else:
            out[name] = str(value)
    return out


def streamlit_options(port: int, host: str) -> dict[str, str]:
    """The bundled ``.streamlit/config.toml`` as options, with the port and address.

    Parameters
    ----------
    port : int
        TCP port.
    host : str
        Address to listen on (``localhost``; ``0.0.0.0`` for every interface of a server).

    Returns
    -------
    dict of str to str
        Option name → value, e.g. ``{"server.enableStaticServing": "true", ...}``.
    """
    config = places.bundled_path(".streamlit/config.toml")
    with config.open("rb") as handle:
        options = _flatten(tomllib.load(handle))
    options["server.port"] = str(port)
    options["server.address"] = host
    options["server.headless"] = "true"  # print the URL; open no browser on a server
    return options


def app_urls(host: str, port: int) -> list[str]:
    """Where a browser reaches the app.

    Parameters
    ----------
    host : str
        The listening address.
    port : int
        The port.

    Returns
    -------
    list of str
        ``http://localhost:PORT`` for a local app; for ``0.0.0.0`` / ``::`` also this
        machine's name, which colleagues on the intranet use.
    """
    if host in ("0.0.0.0", "::", ""):
        return [f"http://localhost:{port}", f"http://{socket.gethostname()}:{port}"]
    shown = f"[{host}]" if ":" in host else host
    return [f"http://{shown}:{port}"]


def plan_launch(data: Path | None, scenarios: Path | None, port: int, host: str) -> AppLaunch:
    """Resolve the folders (making the working copies on first use) and the options.

    Parameters
    ----------
    data : pathlib.Path or None
        Dataset folder; ``None``: the working copy in the user data folder.
    scenarios : pathlib.Path or None
        Scenario folder; ``None``: the user data folder's.
    port, host
        As for :func:`streamlit_options`.

    Returns
    -------
    AppLaunch
        Ready for :func:`run_app`.

    Raises
    ------
    qjgeo.places.PlacesError
        A bundled file is missing (an incomplete installation).
    """
    script = places.bundled_path("app.py")
    if not script.is_file():
        raise places.PlacesError(f"bundled app missing: {script} (an incomplete installation?)")
    sc_dir = scenarios.resolve() if scenarios is not None else places.working_scenarios_dir()
    env = {SCENARIOS_ENV: str(sc_dir)}
    if data is not None:  # else the app reads the working copy or the bundled data itself
        env[DATA_ENV] = str(data.resolve())
    if os.environ.get(MONITORING_ENV):  # else the records stay with the dataset
        env[MONITORING_ENV] = os.environ[MONITORING_ENV]
    return AppLaunch(script, streamlit_options(port, host), env, app_urls(host, port))


def run_app(launch: AppLaunch) -> None:
    """Serve the app in this process until interrupted (Ctrl+C), as ``streamlit run`` does.

    Parameters
    ----------
    launch : AppLaunch
        From :func:`plan_launch`.
    """
    from streamlit.web import cli as streamlit_cli

    os.environ.update(launch.env)
    args = ["run", str(launch.script)]
    for name, value in launch.options.items():
        args.append(f"--{name}={value}")
    streamlit_cli.main(args=args, prog_name="streamlit")
