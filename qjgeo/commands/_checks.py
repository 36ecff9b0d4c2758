"""Checks of what a user typed, run first thing in a command, before any work.

Each ``check_*`` returns the value when it is usable and otherwise exits through
:func:`qjgeo.commands._common.fail` (exit code 2, a one-line message naming the option, no
traceback), in the spirit of scikit-learn's ``check_*`` helpers. A bad ``--name`` or
``--out`` is refused before a solve or an evaluation that would take minutes and then fail.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from qjgeo.commands._common import fail

__all__ = ["check_output_path", "check_scenario_name"]


def check_scenario_name(name: str, option: str = "--name") -> str:
    """A usable scenario name, by the rules (and with the message) of the scenario model.

    Parameters
    ----------
    name
        The name typed.
    option
        The option named in the message.

    Returns
    -------
    str
        ``name`` unchanged.
    """
    from qjgeo.scenario.model import name_problem

    problem = name_problem(name)
    if problem is not None:
        fail(f"{option}: {problem}")
    return name


def check_output_path(
    path: Path,
    option: str = "--out",
    *,
    suffixes: Sequence[str] | None = None,
    overwrite: bool = False,
    folder_must_exist: bool = True,
) -> Path:
    """A file a command may write: a plain file name in an existing folder.

    Parameters
    ----------
    path
        The path typed.
    option
        The option named in the message.
    suffixes
        Allowed suffixes (lower case, with the dot); ``None`` allows any.
    overwrite
        Whether an existing file may be replaced (else it is refused).
    folder_must_exist
        Refuse a path whose folder does not exist (``False`` when the command creates it).

    Returns
    -------
    pathlib.Path
        ``path`` unchanged.
    """
    name = path.name
    if not name or path.is_dir():
        fail(f"{option} {str(path)!r}: is a folder; give a file name")
    if name != name.strip():
        fail(f"{option} {str(path)!r}: the file name may not start or end with a space")
    if suffixes is not None and path.suffix.lower() not in suffixes:
        fail(f"{option} {str(path)!r}: the file name must end in {' or '.join(suffixes)}")
    if folder_must_exist and not path.parent.is_dir():
        fail(f"{option} {str(path)!r}: folder {str(path.parent)!r} does not exist")
    if not overwrite and path.exists():
        fail(f"{path}: already exists; add --overwrite to replace it")
    return path
