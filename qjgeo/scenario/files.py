"""Scenario files of a directory: saving, listing, renaming, deleting, resolving bases.

Saving, renaming and deleting hold the directory's write lock
(:func:`qjgeo.locking.folder_lock`), so two sessions editing the same scenarios take turns.
A base named by its scenario ``name`` rather than its file stem is found by reading only
the top-level ``name:`` line of each file's first :data:`NAME_SCAN_BYTES` bytes; only a
file whose line matches is parsed.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from qjgeo.fileio import write_atomic
from qjgeo.locking import FolderBusyError, folder_lock
from qjgeo.scenario.model import (
    _NAME_RE,
    MAX_SCENARIO_BYTES,
    SCENARIO_SUFFIXES,
    Scenario,
    ScenarioError,
    load_scenario,
    scenario_to_yaml,
)

#: How much of each file the lookup of a base by ``name`` reads for its ``name:`` line.
NAME_SCAN_BYTES = 8192
_NAME_LINE = re.compile(r"^name:[ \t]*(.*?)[ \t]*$", re.MULTILINE)
#: Characters no file name may hold on Windows or POSIX (and control characters).
_UNSAFE_IN_FILE = re.compile(r'[/\\:*?"<>|\x00-\x1f\x7f]')
#: Names Windows keeps for devices, with or without an extension.
_DEVICE_NAMES = frozenset(
    {"con", "prn", "aux", "nul"} | {f"{p}{n}" for p in ("com", "lpt") for n in range(1, 10)}
)
#: Longest file stem in UTF-8 bytes (file systems allow 255 bytes, ".yaml" and a temporary
#: file's suffix take some).
MAX_STEM_BYTES = 200


def file_stem(name: str) -> str:
    """A safe file stem for a scenario's name: Chinese kept, nothing that leaves the folder.

    Path separators and the characters Windows refuses (``/ \\ : * ? " < > |``, control
    characters) become ``_``; leading and trailing dots, spaces and ``_`` are dropped; a
    Windows device name (``CON``, ``COM1`` …) gets a trailing ``_``; the stem is cut to
    :data:`MAX_STEM_BYTES` bytes of UTF-8 at a character boundary.

    Parameters
    ----------
    name
        The scenario's name (any text).

    Returns
    -------
    str
        The stem, ``"scenario"`` when nothing usable is left.

    Examples
    --------
    >>> file_stem("托育推荐3处")
    '托育推荐3处'
    >>> file_stem(" ../a/b:c. ")
    'a_b_c'
    """
    stem = _UNSAFE_IN_FILE.sub("_", name).strip(" ._")
    stem = stem.encode("utf-8")[:MAX_STEM_BYTES].decode("utf-8", "ignore").rstrip(" ._")
    if stem.split(".")[0].lower() in _DEVICE_NAMES:
        stem += "_"
    return stem or "scenario"


@contextmanager
def _locked(folder: Path) -> Iterator[None]:
    """Hold the folder's write lock; a writer that holds it too long is a :class:`ScenarioError`."""
    try:
        with folder_lock(folder):
            yield
    except FolderBusyError as exc:
        raise ScenarioError(str(exc)) from None


def _atomic_write(path: Path, text: str, *, overwrite: bool) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        write_atomic(path, text, overwrite=overwrite)
    except FileExistsError:
        raise ScenarioError(f"{path}: already exists; refusing to overwrite it") from None


def save_scenario(scenario: Scenario, path: str | Path, *, overwrite: bool = False) -> Path:
    """Write a scenario file atomically (temporary file in the same directory, then rename).

    The folder's write lock (:func:`qjgeo.locking.folder_lock`) is held while writing, as for
    renaming and deleting, so two sessions saving at once cannot lose a file.

    Parameters
    ----------
    scenario
        The scenario to write (only non-default fields are written).
    path
        Target ``.yaml`` file.
    overwrite
        Replace an existing file; refused otherwise.

    Returns
    -------
    pathlib.Path
        The file written.

    Raises
    ------
    ScenarioError
        If the file exists and ``overwrite`` is false, or another writer holds the folder
        for too long. On any failure the previous file is left intact and no temporary
        file remains.
    """
    file = Path(path)
    if file.suffix not in SCENARIO_SUFFIXES:
        raise ScenarioError(f"{file}: scenario files end in .yaml")
    text = scenario_to_yaml(scenario)
    file.parent.mkdir(parents=True, exist_ok=True)
    with _locked(file.parent):
        _atomic_write(file, text, overwrite=overwrite)
    return file


@dataclass(frozen=True)
class ScenarioInfo:
    """One scenario file of a directory, as listed by :func:`list_scenarios`."""

    stem: str
    path: Path
    name: str | None
    description: str
    base: str | None
    error: str | None = None


def _scenario_files(directory: Path) -> list[Path]:
    if not directory.is_dir():
        return []
    return sorted(
        p
        for p in directory.iterdir()
        if p.suffix in SCENARIO_SUFFIXES and p.is_file() and not p.name.startswith(".")
    )


def list_scenarios(directory: str | Path) -> list[ScenarioInfo]:
    """List the scenario files of a directory, sorted by file name.

    Unreadable files are listed too, with ``error`` set, so the app can show what is wrong.
    """
    out = []
    for path in _scenario_files(Path(directory)):
        try:
            s = load_scenario(path)
        except ScenarioError as exc:
            out.append(ScenarioInfo(path.stem, path, None, "", None, str(exc)))
            continue
        out.append(ScenarioInfo(path.stem, path, s.name, s.description, s.base))
    return out


def _find_file(directory: Path, name: str) -> Path | None:
    for suffix in SCENARIO_SUFFIXES:
        candidate = directory / f"{name}{suffix}"
        if candidate.is_file():
            return candidate
    return None


def _scanned_name(path: Path) -> str | None:
    """The top-level ``name:`` of a scenario file, from its first bytes, without parsing YAML.

    ``None`` when the file is unreadable, over :data:`MAX_SCENARIO_BYTES` or has no plain
    ``name:`` line in its first :data:`NAME_SCAN_BYTES` bytes.
    """
    try:
        if path.stat().st_size > MAX_SCENARIO_BYTES:
            return None
        with path.open("rb") as handle:
            head = handle.read(NAME_SCAN_BYTES)
    except OSError:
        return None
    match = _NAME_LINE.search(head.decode("utf-8", errors="replace").removeprefix("\ufeff"))
    if match is None:
        return None
    raw = match.group(1)
    quote = raw[:1]
    if quote in ("'", '"') and raw.rfind(quote) > 0:
        inner = raw[1 : raw.rfind(quote)]
        if quote == "'":
            return inner.replace("''", "'")
        try:
            return str(json.loads(f'"{inner}"'))
        except ValueError:
            return inner
    return raw.split(" #", 1)[0].rstrip()


def _find_base(directory: Path, name: str) -> tuple[Path, Scenario] | None:
    """The base scenario ``name``: the file with that stem, else the first whose ``name`` is it.

    Looking by ``name``, only files whose ``name:`` line matches (:func:`_scanned_name`) are
    parsed, to confirm; an unreadable one is passed over.
    """
    path = _find_file(directory, name)
    if path is not None:
        return path, load_scenario(path)
    for path in _scenario_files(directory):
        if _scanned_name(path) != name:
            continue
        try:
            scenario = load_scenario(path)
        except ScenarioError:
            continue
        if scenario.name == name:
            return path, scenario
    return None


def _dependents(directory: Path, stem: str, name: str | None) -> list[str]:
    keys = {stem} | ({name} if name else set())
    return [
        info.path.name
        for info in list_scenarios(directory)
        if info.stem != stem and info.base is not None and info.base in keys
    ]


def rename_scenario(directory: str | Path, old: str, new: str) -> Path:
    """Rename a scenario file and its ``name`` (atomic; refuses to overwrite).

    Scenarios using ``old`` as their base are updated to use ``new``.

    Parameters
    ----------
    directory
        The scenarios directory.
    old, new
        File stems (``new`` also becomes the scenario's ``name``).

    Returns
    -------
    pathlib.Path
        The new file.
    """
    folder = Path(directory)
    if _find_file(folder, old) is None:
        raise ScenarioError(f"{folder}: no scenario file {old}.yaml")
    with _locked(folder):
        return _rename(folder, old, new)


def _rename(folder: Path, old: str, new: str) -> Path:
    """:func:`rename_scenario` under the folder's lock."""
    src = _find_file(folder, old)
    if src is None:
        raise ScenarioError(f"{folder}: no scenario file {old}.yaml")
    if not _NAME_RE.match(new):
        raise ScenarioError(f"{new!r} is not a usable scenario name")
    dst = folder / f"{new}.yaml"
    if dst.exists() or _find_file(folder, new) is not None:
        raise ScenarioError(f"{dst}: already exists; refusing to overwrite it")
    scenario = load_scenario(src)
    dependents = _dependents(folder, src.stem, scenario.name)
    save_scenario(scenario.renamed(new), dst)
    for fname in dependents:
        child = load_scenario(folder / fname)
        save_scenario(child._with(base=new), folder / fname, overwrite=True)
    src.unlink()
    return dst


def delete_scenario(directory: str | Path, name: str) -> None:
    """Delete a scenario file; refused while another scenario uses it as its base."""
    folder = Path(directory)
    if _find_file(folder, name) is None:
        raise ScenarioError(f"{folder}: no scenario file {name}.yaml")
    with _locked(folder):
        _delete(folder, name)


def _delete(folder: Path, name: str) -> None:
    """:func:`delete_scenario` under the folder's lock."""
    path = _find_file(folder, name)
    if path is None:
        raise ScenarioError(f"{folder}: no scenario file {name}.yaml")
    try:
        scenario_name: str | None = load_scenario(path).name
    except ScenarioError:
        scenario_name = None
    dependents = _dependents(folder, path.stem, scenario_name)
    if dependents:
        raise ScenarioError(
            f"{path}: cannot delete, used as base by {', '.join(sorted(dependents))}"
        )
    path.unlink()


def write_schema(path: str | Path) -> Path:
    """Write the JSON schema of scenario files (generated from :class:`Scenario`)."""
    file = Path(path)
    text = json.dumps(Scenario.model_json_schema(), ensure_ascii=False, indent=2) + "\n"
    _atomic_write(file, text, overwrite=True)
    return file


# --------------------------------------------------------------------------------------
# Applying


def resolve_chain(scenario: Scenario, scenarios_dir: str | Path | None = None) -> list[Scenario]:
    """The scenario and its bases, baseline-most first.

    Parameters
    ----------
    scenario
        The scenario whose ``base`` chain to follow.
    scenarios_dir
        Where bases are looked up (by file stem, then by ``name``: only files whose
        top-level ``name:`` line matches are parsed); defaults to the directory the
        scenario was read from.

    Raises
    ------
    ScenarioError
        If a base is not found or the chain loops (the message lists the loop).
    """
    chain = [scenario]
    seen = [scenario.name]
    current = scenario
    while current.base is not None:
        folder = (
            Path(scenarios_dir)
            if scenarios_dir is not None
            else (current.source.parent if current.source else None)
        )
        where = current.source or f"scenario {current.name!r}"
        if folder is None:
            raise ScenarioError(
                f"{where}: base: {current.base!r} cannot be found (no scenarios directory given)"
            )
        found = _find_base(folder, current.base)
        if found is None:
            raise ScenarioError(
                f"{where}: base: no scenario {current.base!r} in {folder} "
                f"(use 'baseline' or a file stem)"
            )
        path, parent = found
        if parent.name in seen or path.stem in seen:
            loop = " → ".join([*seen, parent.name])
            raise ScenarioError(f"{where}: base: scenarios form a cycle: {loop}")
        seen.append(parent.name)
        chain.append(parent)
        current = parent
    return chain[::-1]
