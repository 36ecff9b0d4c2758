"""Where qjgeo's files are: what it ships (read-only) and the planner's own data folder.

数据位置：qjgeo 自带的只读文件，以及用户自己的数据目录（导入、方案、监测记录写在这里）。

**Bundled files** have one source: the top level of the repository — the Qujiang dataset
(``layers/``), the example scenarios (``scenarios/``), the vendored map assets
(``static/vendor/``), the app's entry script (``app.py``), the Streamlit settings
(``.streamlit/config.toml``) and the user guides (``docs/user-guide.*.md``). A wheel carries a
copy of them as ``qjgeo/_bundled/`` (made by ``setup.py`` when the wheel is built; the list is
``BUNDLED`` there). :func:`bundled_path` finds them through :mod:`importlib.resources`: in the
package's ``_bundled`` folder when it exists (an installed wheel), else at the top level of the
checkout the package sits in. Bundled files are never written.

**The user data folder** (:func:`user_data_dir`: ``$QJGEO_HOME``, else the platform's own, e.g.
``%LOCALAPPDATA%\\qjgeo`` on Windows, ``~/.local/share/qjgeo`` on Linux,
``~/Library/Application Support/qjgeo`` on macOS) holds what a planner changes: the working copy
of the dataset (``layers/``, copied from the bundled data the first time something is written,
:func:`working_dataset_dir`), the scenarios (``scenarios/``) and the monitoring records
(``monitoring/``). An installed qjgeo therefore never writes into its installation, and a
checkout never into its tracked files.
"""

from __future__ import annotations

import os
import shutil
import uuid
from importlib import resources
from pathlib import Path
from typing import Final

import platformdirs

__all__ = [
    "BUNDLED_FOLDER",
    "HOME_ENV",
    "PlacesError",
    "bundled_path",
    "is_bundled",
    "monitoring_dir",
    "user_data_dir",
    "working_copy_path",
    "working_dataset_dir",
    "working_scenarios_dir",
]

#: Environment variable naming the user data folder (default: the platform's user data folder).
HOME_ENV: Final = "QJGEO_HOME"
#: Folder inside the installed package that holds the bundled files (made by ``setup.py``).
BUNDLED_FOLDER: Final = "_bundled"
_APP_NAME: Final = "qjgeo"


class PlacesError(RuntimeError):
    """A bundled file is missing (an incomplete installation) or the data folder is unusable."""


def _package_dir() -> Path:
    root = resources.files("qjgeo")
    if not isinstance(root, Path):  # a zipped install: the files have no paths of their own
        raise PlacesError("qjgeo must be installed as files, not run from a zip archive")
    return root


def bundled_path(name: str) -> Path:
    """The bundled file or folder ``name`` (read-only), in a wheel or a checkout alike.

    Parameters
    ----------
    name : str
        Path relative to the repository's top level, with ``/`` separators, e.g. ``"layers"``,
        ``"static/vendor"``, ``"docs/user-guide.zh.md"``.

    Returns
    -------
    pathlib.Path
        ``qjgeo/_bundled/<name>`` of an installed wheel, else ``<checkout>/<name>`` (which may
        not exist: callers report a missing file in their own words).
    """
    package = _package_dir()
    parts = name.split("/")
    bundled = package / BUNDLED_FOLDER
    if bundled.is_dir():
        return bundled.joinpath(*parts)
    return package.parent.joinpath(*parts)


def user_data_dir() -> Path:
    """The planner's data folder: ``$QJGEO_HOME``, else the platform's user data folder.

    Returns
    -------
    pathlib.Path
        An absolute path; not created here.
    """
    env = os.environ.get(HOME_ENV)
    if env:
        return Path(env).expanduser().resolve()
    return Path(platformdirs.user_data_dir(_APP_NAME, appauthor=False, roaming=False))


def _copy_once(source: Path, target: Path) -> Path:
    """Copy ``source`` to ``target`` unless ``target`` exists; safe when two processes race."""
    if target.is_dir():
        return target
    if not source.is_dir():
        raise PlacesError(f"bundled folder missing: {source} (an incomplete installation?)")
    target.parent.mkdir(parents=True, exist_ok=True)
    staged = target.parent / f".{target.name}.{uuid.uuid4().hex}.tmp"
    shutil.copytree(source, staged, ignore=shutil.ignore_patterns(".*", "__pycache__"))
    try:
        staged.rename(target)  # atomic on one volume; refused when the target appeared meanwhile
    except OSError:
        shutil.rmtree(staged, ignore_errors=True)
        if not target.is_dir():
            raise
    return target


def working_copy_path() -> Path:
    """Where the planner's working copy of the dataset lives (or will, after the first write)."""
    return user_data_dir() / "layers"


def working_dataset_dir(*, create: bool = True) -> Path:
    """The planner's working copy of the dataset: ``<user data folder>/layers``.

    Parameters
    ----------
    create : bool, default True
        Copy the bundled dataset there first when there is no copy yet (for a write). With
        ``False`` a missing copy is not made and the bundled dataset is returned (for a read:
        nothing was imported yet, so both hold the same data).

    Returns
    -------
    pathlib.Path
        The dataset folder to read or write.
    """
    target = working_copy_path()
    if not create:
        return target if target.is_dir() else bundled_path("layers")
    return _copy_once(bundled_path("layers"), target)


def working_scenarios_dir() -> Path:
    """The planner's scenario folder ``<user data folder>/scenarios``, made from the bundled
    example scenarios on first use.

    Returns
    -------
    pathlib.Path
        The scenario folder.
    """
    return _copy_once(bundled_path("scenarios"), user_data_dir() / "scenarios")


def is_bundled(folder: str | Path) -> bool:
    """Whether ``folder`` is the bundled dataset or scenario folder (never to be written).

    Parameters
    ----------
    folder : str or pathlib.Path
        A folder about to be written.

    Returns
    -------
    bool
        True for the bundled ``layers/`` or ``scenarios/`` (of a checkout or an installation).
    """
    here = Path(folder).resolve()
    return any(here == bundled_path(name).resolve() for name in ("layers", "scenarios"))


def monitoring_dir(dataset_dir: str | Path | None = None, *, write: bool = False) -> Path:
    """Where a dataset's yearly monitoring records are kept: ``monitoring/`` inside it.

    The years stay with their data. The bundled dataset (or ``None``) is never written: its
    records live in its working copy in the user data folder.

    Parameters
    ----------
    dataset_dir
        The dataset folder; ``None`` for the planner's working copy of the bundled dataset.
    write
        Make the working copy first when it is needed and missing (for recording a year).

    Returns
    -------
    pathlib.Path
        Not created here (the first record creates it).
    """
    if dataset_dir is None or is_bundled(dataset_dir):
        dataset_dir = working_dataset_dir(create=write)
    return Path(dataset_dir) / "monitoring"
