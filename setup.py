"""Build step that puts the bundled files into the wheel (metadata lives in pyproject.toml).

The bundled files have one source, the top level of the repository (``layers/``, ``scenarios/``,
``static/vendor/``, ``app.py`` …), where a checkout uses them. A wheel carries a copy of them as
``qjgeo/_bundled/``, made here when the package is built, where ``qjgeo.places.bundled_path``
finds them through ``importlib.resources``. An editable install (``pip install -e .``) copies
nothing: the package then finds them at the top level of the checkout.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).resolve().parent
#: Bundled files and folders, relative to the repository's top level (kept in the sdist by
#: MANIFEST.in; qjgeo.places documents what each is for).
BUNDLED = (
    "layers",
    "scenarios",
    "static/vendor",
    "app.py",
    ".streamlit/config.toml",
    "docs/user-guide.zh.md",
    "docs/user-guide.en.md",
)
_SKIP = shutil.ignore_patterns("__pycache__", "*.pyc", ".qjgeo.lock", ".*.tmp")


class BuildWithBundledFiles(build_py):
    """``build_py`` that also copies :data:`BUNDLED` into ``qjgeo/_bundled`` of the build."""

    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return
        target = Path(self.build_lib) / "qjgeo" / "_bundled"
        if target.exists():
            shutil.rmtree(target)
        for name in BUNDLED:
            source = HERE / name
            if not source.exists():
                raise FileNotFoundError(f"bundled file missing from the source tree: {name}")
            dest = target / name
            dest.parent.mkdir(parents=True, exist_ok=True)
            if source.is_dir():
                shutil.copytree(source, dest, ignore=_SKIP)
            else:
                shutil.copy2(source, dest)


setup(cmdclass={"build_py": BuildWithBundledFiles})
