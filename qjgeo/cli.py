"""The command line: ``qjgeo …`` or ``python -m qjgeo …``.

Each sub-command lives in a module of :mod:`qjgeo.commands` that defines ``register(app)``;
every module found there is registered, so commands are added without editing this file.
"""

from __future__ import annotations

import importlib
import pkgutil

import typer

import qjgeo.commands
from qjgeo.console import configure_console

app = typer.Typer(
    name="qjgeo",
    help="qjgeo: child-friendly facility planning for Qujiang District (曲江区). "
    "Every command takes --data DIR (default: the bundled Qujiang dataset).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.callback()
def _root() -> None:
    """qjgeo: child-friendly facility planning for Qujiang District (曲江区)."""


def _register_all() -> None:
    for info in sorted(pkgutil.iter_modules(qjgeo.commands.__path__), key=lambda m: m.name):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"qjgeo.commands.{info.name}")
        register = getattr(module, "register", None)
        if register is not None:
            register(app)


_register_all()


def main() -> None:
    """Run the command line (entry point of the ``qjgeo`` script)."""
    configure_console()
    app()
