"""The bundled mid-term report and its page images in ``docs/`` (a demonstration).

Records the demonstration history of :mod:`monitoring_history` (2020, 2023, 2025 built from
the bundled sample data) into a temporary folder, writes the mid-term evaluation report
``docs/midterm-report-example.docx``, converts it to PDF with LibreOffice (headless) and
renders pages at 60 dpi (``docs/midterm-report-p<N>.png``) with poppler's ``pdftoppm``.

Usage: ``python tools/make_evaluation_example.py``
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tools"))

from monitoring_history import record_history  # noqa: E402

from qjgeo import load_dataset  # noqa: E402
from qjgeo.evaluation import evaluate_stage  # noqa: E402
from qjgeo.export.evaluation_report import write_evaluation_docx  # noqa: E402
from qjgeo.monitoring import load_series  # noqa: E402

DOCS = ROOT / "docs"
PAGES = (1, 2, 3)
NOTE = (
    "示例报告：2020年（基线）和2023年的记录由内置示例数据去除部分设施生成，2025年为内置数据"
    "现状，仅用于演示评估报告的格式。"
)


def main() -> None:
    """Write the example report and its first pages as PNG."""
    dataset = load_dataset()
    with tempfile.TemporaryDirectory() as tmp:
        folder = record_history(dataset, Path(tmp) / "monitoring")
        series = load_series(folder)
        evaluation = evaluate_stage(series, "midterm")
        docx = write_evaluation_docx(
            dataset,
            evaluation,
            series,
            DOCS / "midterm-report-example.docx",
            stage="midterm",
            cover_note=NOTE,
        )
        profile = (Path(tmp) / "lo").as_uri()
        subprocess.run(
            ["soffice", f"-env:UserInstallation={profile}", "--headless", "--convert-to", "pdf",
             "--outdir", tmp, str(docx)],
            check=True, capture_output=True,
        )  # fmt: skip
        pdf = Path(tmp) / "midterm-report-example.pdf"
        for page in PAGES:
            stem = Path(tmp) / f"p{page}"
            subprocess.run(
                ["pdftoppm", "-png", "-r", "60", "-f", str(page), "-l", str(page),
                 "-singlefile", str(pdf), str(stem)],
                check=True,
            )  # fmt: skip
            shutil.copyfile(stem.with_suffix(".png"), DOCS / f"midterm-report-p{page}.png")
    print(f"wrote {docx} and {len(PAGES)} page images in {DOCS}")


if __name__ == "__main__":
    main()
