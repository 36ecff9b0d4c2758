"""Session-state keys of the app, in one place.

Three kinds of key live in ``st.session_state``:

- the planner's choices (language, township, layer, scenario, basemap, indicator) under
  ``qj_<choice>`` (:func:`choice`), kept by :mod:`qjgeo.ui.state`; a widget bound to a choice
  has the key ``w_<choice>`` (:func:`widget`);
- what a page remembers across a rerun (the constants below);
- widget keys, which stay beside their widgets in the pages (tests address widgets by them).
"""

from __future__ import annotations

from typing import Final

#: Set once the session's choices have been seeded from the URL.
INIT: Final = "qj_init"
#: Sidebar: a scenario the URL asked for but the scenario directory lacks.
MISSING_SCENARIO: Final = "qj_missing_scenario"
#: Map page: the township last clicked on the map (a click is acted on once).
MAP_LAST_CLICK: Final = "qj_map_last"
#: Indicators page: the monitoring year just recorded, said after the rerun.
MON_DONE: Final = "mon_done"
#: Scenarios page: the draft scenario being edited, as YAML.
SC_DRAFT: Final = "sc_draft"
#: Scenarios page: the path of a scenario file just saved, said after the rerun.
SC_SAVED: Final = "sc_saved_path"
#: Scenarios page: the last point clicked on the editing map (WGS84 lon, lat).
SC_POINT: Final = "sc_point"
#: Scenarios page: the path of an existing file the planner asked to save over.
SC_CONFIRM_OVERWRITE: Final = "sc_confirm_overwrite"
#: Scenarios page: the last site recommendation, ``(facility type, result)``.
SC_REC: Final = "sc_rec"
#: Scenarios page: the file stem last proposed from the scenario's name (the file name box
#: follows the name until the planner types a stem of their own).
SC_FILE_PROPOSED: Final = "sc_file_proposed"
#: Scenarios page: the file name box (a widget key).
SC_FILE_STEM: Final = "sc_file_stem"


def choice(name: str) -> str:
    """Key of a planner's choice, e.g. ``qj_lang``."""
    return f"qj_{name}"


def widget(name: str) -> str:
    """Key of the widget bound to a choice, e.g. ``w_lang``."""
    return f"w_{name}"


#: Downloads: download key → the event set when the file a click asked for is built.
EXPORT_JOBS: Final = "exp_jobs"
#: Downloads: download key → why building its file failed (said under the button).
EXPORT_FAILURES: Final = "exp_failures"


#: Import page: a counter bumped after a commit or cancel, so the upload widgets start afresh.
IMP_NONCE: Final = "imp_nonce"
#: Import page: the message of an import just committed, said after the rerun.
IMP_DONE: Final = "imp_done"
