"""The plan evaluation as a Word report (.docx): mid-term (2025) or final (2030).

《曲江区儿童发展规划（2021—2030年）中期评估报告（空间指标部分）》: a cover, a summary
paragraph written from the numbers (how many targets are met, on track, behind, at risk),
one section per development area of the plan's part 二 ((一) health … (七) legal
protection) with the table of its targets, the gap maps of the facility types behind them
and the failing townships and units by name, a section on figures by sex, and an annex of
data sources and data status. Chinese first; ``lang="en"`` gives the English version.

Written with python-docx (built-in styles only, CJK fonts named for Word and LibreOffice);
the gap maps are the PNG maps of :mod:`qjgeo.export.staticmap`. Every value resting on
estimated or sample data says so, in the summary, in each table row and in the annex.
"""

from __future__ import annotations

import datetime as dt
import io
import math
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import pandas as pd

from qjgeo.fileio import write_atomic

if TYPE_CHECKING:
    from docx.document import Document as DocumentObject
    from docx.table import Table

    from qjgeo.catalog import Dataset

__all__ = ["AREAS", "area_of", "evaluation_docx_bytes", "write_evaluation_docx"]

#: The plan's development areas (part 二): key, Chinese and English title.
AREAS: Final[tuple[tuple[str, str, str], ...]] = (
    ("二(一)", "（一）儿童与健康", "1. Children and health"),
    ("二(二)", "（二）儿童与安全", "2. Children and safety"),
    ("二(三)", "（三）儿童与教育", "3. Children and education"),
    ("二(四)", "（四）儿童与福利", "4. Children and welfare"),
    ("二(五)", "（五）儿童与家庭", "5. Children and family"),
    ("二(六)", "（六）儿童与环境", "6. Children and environment"),
    ("二(七)", "（七）儿童与法律保护", "7. Children and legal protection"),
)
#: Gap maps per area at most (the report stays a few MB).
MAPS_PER_AREA: Final = 2
_BODY_FONT: Final = "宋体"
_HEAD_FONT: Final = "黑体"
_STATUS_EN: Final[dict[str, str]] = {
    "sample": "sample", "estimated": "estimated", "official": "official", "user": "user",
    "osm": "OpenStreetMap",
}  # fmt: skip
_STATUS_ZH: Final[dict[str, str]] = {
    "sample": "示例", "estimated": "估算", "official": "官方", "user": "用户导入",
    "osm": "OpenStreetMap",
}  # fmt: skip
_EVAL_EN: Final[dict[str, str]] = {
    "met": "met", "on track": "on track", "behind": "behind", "at risk": "at risk",
    "baseline only": "baseline only", "not computable": "not computable",
}  # fmt: skip

_TEXT: Final[dict[str, dict[str, str]]] = {
    "zh": {
        "title": "曲江区儿童发展规划（2021—2030年）{stage}报告（空间指标部分）",
        "scope": "评估范围：{scope}",
        "issuer": "韶关市曲江区妇女儿童工作委员会办公室（草稿，供审阅）",
        "made": "生成日期：{date}；数据集：{dataset}；评估年份：{year}",
        "weak": "重要提示：本报告的数值全部或部分基于估算或示例数据（{statuses}），"
        "仅用于演示评估方法，不是正式统计结果，不得作为事实引用。",
        "summary_h": "一、总体情况",
        "summary": "本次{stage}共评估{n}项可由空间数据计算的规划指标（记录年份：{years}；"
        "基线年份：{baseline}）。其中已达标{met}项，进度符合预期{on_track}项，进度滞后"
        "{behind}项，预计难以达标{at_risk}项{extra}。",
        "extra_base": "，仅有基线、尚无法判断进度{n}项",
        "extra_na": "，无法计算{n}项",
        "worst": "进度滞后或预计难以达标的指标：{items}。",
        "path_note": "说明：“{year}年应达值”指从基线值到2030年目标值的直线路径在{year}年的取值；"
        "最新值达到或优于最新年份的路径值即为“进度符合预期”；未达到但按历年趋势推算2030年"
        "可达标为“进度滞后”，推算仍不达标为“预计难以达标”。",
        "areas_h": "二、分领域评估",
        "no_ind": "本领域没有可由空间数据计算的指标，需由相关部门按统计报表评估。",
        "cols": "指标|基线值（年）|最新值（年）|{year}年应达值|2030年目标|趋势推算2030年|"
        "评估结论|数据状态",
        "failing_h": "未达标的镇（街道）和单元：",
        "failing": "{title}：{towns}{units}",
        "towns": "镇（街道）：{names}",
        "units": "；单元：{names}",
        "map_cap": "图：{facility}服务缺口（步行距离分级）",
        "sex_h": "三、分性别统计",
        "sex_none": "现有村（社区）数据未按性别分列儿童人数。村（社区）图层带有分性别的"
        "0—14岁儿童数（girls_0_14、boys_0_14 两列）时，本节列出各镇（街道）分性别儿童数。",
        "sex_cols": "镇（街道）|女童（0—14岁）|男童（0—14岁）|数据状态",
        "annex_h": "附件：数据来源与数据状态",
        "annex_cols": "图层|要素数|数据状态|来源|截至",
        "attr_h": "以下属性的取值为示例或估算（与要素本身的来源不同）：",
        "records_h": "监测记录：",
        "records_cols": "年份|指标数|数据状态|数据集|记录时间",
        "district": "全区",
        "sep": "、",
    },
    "en": {
        "title": "Qujiang District Children's Development Plan (2021–2030): {stage} report "
        "(spatial indicators)",
        "scope": "Scope: {scope}",
        "issuer": "Office of the Qujiang District Working Committee on Women and Children "
        "(draft for review)",
        "made": "Made on {date}; dataset: {dataset}; evaluation year: {year}",
        "weak": "Important: the values of this report rest wholly or partly on estimated or "
        "sample data ({statuses}). They demonstrate the method and are not official "
        "statistics; do not quote them as facts.",
        "summary_h": "1. Overview",
        "summary": "This {stage} covers {n} plan indicators computable from spatial data "
        "(recorded years: {years}; baseline year: {baseline}). {met} are met, {on_track} on "
        "track, {behind} behind and {at_risk} at risk{extra}.",
        "extra_base": "; {n} have a baseline only (progress cannot be judged yet)",
        "extra_na": "; {n} cannot be computed",
        "worst": "Behind or at risk: {items}.",
        "path_note": "Note: the {year} milestone is the straight line from the baseline to "
        "the 2030 target, read at {year}. A latest value at or beyond the line is on track; "
        "short of it but with a trend reaching the target by 2030 is behind; otherwise at "
        "risk.",
        "areas_h": "2. Evaluation by development area",
        "no_ind": "No indicator of this area can be computed from spatial data; the "
        "departments evaluate it from their statistics.",
        "cols": "Indicator|Baseline (year)|Latest (year)|{year} milestone|2030 target|"
        "Trend to 2030|Evaluation|Data status",
        "failing_h": "Failing townships and units:",
        "failing": "{title}: {towns}{units}",
        "towns": "townships {names}",
        "units": "; units {names}",
        "map_cap": "Map: service gaps of {facility} (walking distance bands)",
        "sex_h": "3. Figures by sex",
        "sex_none": "The village data carry no children by sex. When the village layer has "
        "girls and boys aged 0–14 (columns girls_0_14, boys_0_14), this section lists them "
        "per township.",
        "sex_cols": "Township|Girls (0–14)|Boys (0–14)|Data status",
        "annex_h": "Annex: data sources and data status",
        "annex_cols": "Layer|Features|Data status|Source|As of",
        "attr_h": "These attributes hold sample or estimated values (unlike their features):",
        "records_h": "Monitoring records:",
        "records_cols": "Year|Indicators|Data status|Dataset|Recorded at",
        "district": "the district",
        "sep": ", ",
    },
}


def area_of(section: str) -> str:
    """The area key (``"二(六)"``) of a plan reference like ``"二(六) 主要目标6"``."""
    head = str(section).strip().split(" ")[0].split(";")[0]
    return head[:5] if head.startswith("二(") else ""


def _status_label(status: str, lang: str) -> str:
    return (_STATUS_ZH if lang == "zh" else _STATUS_EN).get(status, status)


def _fmt(value: Any, unit: str = "") -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "—"
    text = f"{float(value):,.2f}".rstrip("0").rstrip(".")
    return f"{text} {unit}".strip() if unit and unit != "%" else text + ("%" if unit else "")


def _set_fonts(doc: DocumentObject) -> None:
    """Body and heading fonts, East Asian ones named so Word and LibreOffice show CJK."""
    from docx.oxml.ns import qn
    from docx.shared import Pt, RGBColor

    for name, font, size in (("Normal", _BODY_FONT, 10.5), ("Title", _HEAD_FONT, 20)):
        style = doc.styles[name]
        style.font.name = "Times New Roman"  # type: ignore[attr-defined]
        style.font.size = Pt(size)  # type: ignore[attr-defined]
        rpr = style.element.get_or_add_rPr()
        rpr.get_or_add_rFonts().set(qn("w:eastAsia"), font)
    for level in (1, 2):
        style = doc.styles[f"Heading {level}"]
        style.font.color.rgb = RGBColor(0, 0, 0)  # type: ignore[attr-defined]
        style.font.size = Pt(15 if level == 1 else 13)  # type: ignore[attr-defined]
        style.element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), _HEAD_FONT)


def _table(doc: DocumentObject, header: str, rows: list[list[str]], size: float = 8.5) -> Table:
    """A bordered table: a bold header row, then the rows (all text)."""
    from docx.shared import Pt

    cols = header.split("|")
    table = doc.add_table(rows=1, cols=len(cols))
    table.style = "Table Grid"
    for cell, text in zip(table.rows[0].cells, cols, strict=True):
        run = cell.paragraphs[0].add_run(text)
        run.bold, run.font.size = True, Pt(size)
    for row in rows:
        cells = table.add_row().cells
        for cell, text in zip(cells, row, strict=True):
            cell.paragraphs[0].add_run(str(text)).font.size = Pt(size)
    return table


def _widths(table: Table, cm: tuple[float, ...]) -> None:
    """Column widths (Word reads the cells' widths, LibreOffice the columns')."""
    from docx.shared import Cm

    table.autofit = False
    for col, width in zip(table.columns, cm, strict=False):
        col.width = Cm(width)
        for cell in col.cells:
            cell.width = Cm(width)


def _weak_statuses(evaluation: pd.DataFrame, lang: str) -> str:
    found = sorted(set(evaluation.loc[evaluation["weak_data"], "data_status"]), reverse=True)
    return ("、" if lang == "zh" else ", ").join(_status_label(s, lang) for s in found)


def _cover(
    doc: DocumentObject, evaluation: pd.DataFrame, ctx: dict[str, Any], t: dict[str, str]
) -> None:
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Pt

    for _ in range(6):
        doc.add_paragraph()
    title = doc.add_paragraph(style="Title")
    title.add_run(t["title"].format(stage=ctx["stage_name"]))
    title.alignment = WD_ALIGN_PARAGRAPH.CENTER
    for line in (
        t["scope"].format(scope=ctx["scope_name"]),
        t["issuer"],
        t["made"].format(date=ctx["date"], dataset=ctx["dataset"], year=ctx["stage_year"]),
    ):
        p = doc.add_paragraph()
        p.alignment = WD_ALIGN_PARAGRAPH.CENTER
        p.add_run(line).font.size = Pt(12)
    if evaluation["weak_data"].any():
        doc.add_paragraph()
        p = doc.add_paragraph()
        run = p.add_run(t["weak"].format(statuses=_weak_statuses(evaluation, ctx["lang"])))
        run.bold = True
    if ctx["cover_note"]:
        doc.add_paragraph().add_run(ctx["cover_note"]).bold = True
    doc.add_page_break()


def summary_text(
    evaluation: pd.DataFrame, ctx: dict[str, Any], t: dict[str, str]
) -> tuple[str, str]:
    """The summary paragraph and the list of lagging targets, written from the numbers."""
    from qjgeo.evaluation import stage_counts

    c = stage_counts(evaluation)
    extra = ""
    if c["baseline only"]:
        extra += t["extra_base"].format(n=c["baseline only"])
    if c["not computable"]:
        extra += t["extra_na"].format(n=c["not computable"])
    years = sorted({int(y) for ys in evaluation["years"] for y in str(ys).split(", ") if y})
    text = t["summary"].format(
        stage=ctx["stage_name"], n=len(evaluation), met=c["met"], on_track=c["on track"],
        behind=c["behind"], at_risk=c["at risk"], extra=extra,
        years=t["sep"].join(map(str, years)),
        baseline=t["sep"].join(map(str, sorted(set(evaluation["baseline_year"].astype(int))))),
    )  # fmt: skip
    lagging = evaluation[evaluation["status"].isin(["behind", "at risk"])]
    title_col = "title_zh" if ctx["lang"] == "zh" else "title_en"
    status_of = (lambda s: str(s)) if ctx["lang"] == "zh" else (lambda s: _EVAL_EN[str(s)])
    col = "status_zh" if ctx["lang"] == "zh" else "status"
    items = t["sep"].join(
        f"{r[title_col]}（{status_of(r[col])}）" if ctx["lang"] == "zh" else
        f"{r[title_col]} ({status_of(r[col])})"
        for _, r in lagging.iterrows()
    )  # fmt: skip
    return text, (t["worst"].format(items=items) if items else "")


def _summary(
    doc: DocumentObject, evaluation: pd.DataFrame, ctx: dict[str, Any], t: dict[str, str]
) -> None:
    doc.add_heading(t["summary_h"], level=1)
    text, worst = summary_text(evaluation, ctx, t)
    doc.add_paragraph(text)
    if worst:
        doc.add_paragraph(worst)
    doc.add_paragraph(t["path_note"].format(year=ctx["stage_year"]))
    if evaluation["weak_data"].any():
        doc.add_paragraph(t["weak"].format(statuses=_weak_statuses(evaluation, ctx["lang"])))


def _row_cells(r: pd.Series, lang: str) -> list[str]:
    unit = str(r["unit"] or "")
    status = str(r["status_zh"]) if lang == "zh" else _EVAL_EN[str(r["status"])]
    if r["volatile"]:
        status += "（波动较大）" if lang == "zh" else " (volatile)"
    op = str(r["op"]).replace(">=", "≥").replace("<=", "≤")
    title = str(r["title_zh"] if lang == "zh" else r["title_en"])
    return [
        f"{title}（{unit}）" if unit else title,
        # the year on its own line: a narrow column never splits the number
        f"{_fmt(r['baseline'])}\n（{r['baseline_year']}）",
        f"{_fmt(r['latest'])}\n（{r['latest_year']}）",
        _fmt(r["stage_target"]),
        f"{op} {_fmt(r['target'])}",
        _fmt(r["projected"]),
        status,
        _status_label(str(r["data_status"]), lang),
    ]


def _names_text(names: list[str], lang: str, t: dict[str, str], limit: int = 12) -> str:
    shown = t["sep"].join(names[:limit])
    if len(names) > limit:
        shown += f"等{len(names)}个" if lang == "zh" else f", … ({len(names)} in all)"
    return shown


def _failing_lines(rows: pd.DataFrame, lang: str, t: dict[str, str]) -> list[str]:
    lines = []
    for _, r in rows.iterrows():
        towns = list(r["held_back_by"])
        units = [u for u in r["failing_units"] if u not in towns]
        if r["status"] == "met" or not (towns or units):
            continue
        parts = [t["towns"].format(names=_names_text(towns, lang, t))] if towns else []
        if units:
            text = t["units"].format(names=_names_text(units, lang, t))
            parts.append(text if towns else text.lstrip("；; "))
        lines.append(
            t["failing"].format(
                title=r["title_zh"] if lang == "zh" else r["title_en"],
                towns=parts[0],
                units="".join(parts[1:]),
            )
        )
    return lines


def _area_section(
    doc: DocumentObject,
    area: tuple[str, str, str],
    rows: pd.DataFrame,
    ctx: dict[str, Any],
    t: dict[str, str],
) -> None:
    """One development area: its targets, failing units, and the gap maps behind them."""
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Cm

    lang = ctx["lang"]
    doc.add_heading(area[1] if lang == "zh" else area[2], level=2)
    if rows.empty:
        doc.add_paragraph(t["no_ind"])
        return
    table = _table(
        doc,
        t["cols"].format(year=ctx["stage_year"]),
        [_row_cells(r, lang) for _, r in rows.iterrows()],
    )
    _widths(table, (4.2, 1.9, 1.9, 1.7, 1.7, 1.7, 2.0, 1.2))
    doc.add_paragraph()
    lines = _failing_lines(rows, lang, t)
    if lines:
        doc.add_paragraph(t["failing_h"])
        for line in lines:
            doc.add_paragraph(line, style="List Bullet")
    for facility, png in ctx["maps"](rows):
        doc.add_picture(io.BytesIO(png), width=Cm(15.5))
        doc.paragraphs[-1].alignment = WD_ALIGN_PARAGRAPH.CENTER
        cap = doc.add_paragraph(t["map_cap"].format(facility=facility))
        cap.alignment = WD_ALIGN_PARAGRAPH.CENTER


def _sex_section(
    doc: DocumentObject, dataset: Dataset, ctx: dict[str, Any], t: dict[str, str]
) -> None:
    """Children by sex per township where the villages carry them, else what to import."""
    doc.add_heading(t["sex_h"], level=1)
    cols = ("girls_0_14", "boys_0_14")
    if not dataset.has("village") or not set(cols) <= set(dataset.layer("village").columns):
        doc.add_paragraph(t["sex_none"])
        return
    villages = dataset.layer("village")
    if ctx["scope"] != "district":
        villages = villages[villages["township_code"].astype(str) == ctx["scope"]]
    sums = villages.groupby(villages["township_code"].astype(str))[list(cols)].sum(min_count=1)
    names = _township_names(dataset)
    status = _status_label(dataset.data_status(["village"], {"village": cols}), ctx["lang"])
    rows = [
        [names.get(code, code), _fmt(r[cols[0]]), _fmt(r[cols[1]]), status]
        for code, r in sums.iterrows()
    ]
    _table(doc, t["sex_cols"], rows)


def _township_names(dataset: Dataset) -> dict[str, str]:
    if not dataset.has("township"):
        return {}
    towns = dataset.layer("township")
    return dict(zip(towns["code9"].astype(str), towns["name"].astype(str), strict=True))


def _annex(
    doc: DocumentObject,
    dataset: Dataset,
    series: pd.DataFrame,
    ctx: dict[str, Any],
    t: dict[str, str],
) -> None:
    """Data sources and data status of every layer, invented attributes, monitoring records."""
    from qjgeo.catalog import layer_table

    lang = ctx["lang"]
    doc.add_page_break()
    doc.add_heading(t["annex_h"], level=1)
    layers = layer_table(dataset)
    rows = [
        [
            f"{r['title_zh'] if lang == 'zh' else r['title_en']}（{r['id']}）",
            str(r["features"]),
            _status_label(dataset.data_status([r["id"]]), lang) + f"（{r['provenance']}）",
            str(r["source"])[:160],
            str(r["as_of"]),
        ]
        for _, r in layers.iterrows()
    ]
    _widths(_table(doc, t["annex_cols"], rows, size=7.5), (3.6, 1.3, 2.6, 6.8, 2.0))
    attrs = [
        f"{lid}.{col}：{_status_label(str(p), lang)}"
        for lid in dataset.layer_ids
        for col, p in dataset.spec(lid).attribute_provenance.items()
    ]
    if attrs:
        doc.add_paragraph(t["attr_h"])
        doc.add_paragraph(t["sep"].join(attrs))
    doc.add_paragraph(t["records_h"])
    _table(doc, t["records_cols"], _record_rows(series, ctx["scope"], lang), size=7.5)


def _record_rows(series: pd.DataFrame, scope: str, lang: str) -> list[list[str]]:
    from qjgeo.export.staticmap.texts import weakest_status

    rows = []
    for year, group in series[series["scope"].astype(str) == scope].groupby("year"):
        status = weakest_status(set(group["data_status"].astype(str)) - {""})
        rows.append(
            [
                str(year),
                str(group["id"].nunique()),
                _status_label(status, lang),
                ", ".join(sorted(set(group["dataset"].astype(str)))),
                ", ".join(sorted(set(group["recorded_at"].astype(str))))[:40],
            ]
        )
    return rows


def _map_maker(
    dataset: Dataset, graph: Any, lang: str, dpi: float
) -> Callable[[pd.DataFrame], list[tuple[str, bytes]]]:
    """For an area's rows: (title, PNG) of the gap maps of the facility types behind them."""
    from qjgeo.export.staticmap import default_facility_types, gap_map_png
    from qjgeo.export.staticmap.texts import facility_titles
    from qjgeo.indicators import load_targets
    from qjgeo.indicators.targets import attributes_read

    targets = load_targets()
    mapped = default_facility_types(dataset)
    done: dict[str, bytes] = {}

    def maps(rows: pd.DataFrame) -> list[tuple[str, bytes]]:
        wanted: list[str] = []
        for ind_id in rows["id"]:
            if ind_id in targets.ids:
                layers = [
                    *attributes_read(targets.get(ind_id)),
                    *_facility_layers(targets.get(ind_id)),
                ]
                wanted += [lid for lid in layers if lid in mapped and lid not in wanted]
        out = []
        for lid in wanted[:MAPS_PER_AREA]:
            if lid not in done:
                done[lid] = gap_map_png(dataset, lid, dpi=dpi, surface=False, gaps=None)
            zh, en = facility_titles(dataset, lid)
            out.append((zh if lang == "zh" else en, done[lid]))
        return out

    del graph  # the gap maps compute their own distances (straight line × detour factor)
    return maps


def _sections(evaluation: pd.DataFrame) -> pd.Series:
    """Each row's plan reference; from the bundled targets for records made without one."""
    from qjgeo.indicators import load_targets

    targets = load_targets()
    known = {i.id: i.section for i in targets.indicators}
    section = evaluation["section"].fillna("").astype(str)
    return section.where(section != "", evaluation["id"].map(known).fillna(""))


def _facility_layers(ind: Any) -> list[str]:
    params = ind.params
    for name in ("facilities", "features"):
        sel = getattr(params, name, None)
        if sel is not None:
            return [sel.layer]
    sources = getattr(params, "sources", None)
    if sources:
        return [s.layer for s in sources]
    layer = getattr(params, "layer", None)
    return [layer] if isinstance(layer, str) else []


def evaluation_docx_bytes(
    dataset: Dataset,
    evaluation: pd.DataFrame,
    series: pd.DataFrame,
    *,
    stage: str = "midterm",
    scope: str = "district",
    lang: str = "zh",
    graph: Any = None,
    date: dt.date | None = None,
    map_dpi: float = 100,
    cover_note: str = "",
) -> bytes:
    """The evaluation report as .docx bytes (see the module notes).

    Parameters
    ----------
    dataset
        The dataset as it stands (gap maps, data sources, township names).
    evaluation
        From :func:`qjgeo.evaluation.evaluate_stage`.
    series
        From :func:`qjgeo.monitoring.load_series` (the annex lists the records).
    stage
        ``"midterm"`` or ``"final"``.
    scope
        ``"district"`` or a township's 9-digit code.
    lang
        ``"zh"`` (default) or ``"en"``.
    graph
        Walking network (unused by the maps, which use straight line × detour factor).
    date
        The report's date (default today).
    map_dpi
        Resolution of the gap maps.
    cover_note
        A line added to the cover (e.g. that the recorded years are a demonstration).
    """
    from docx import Document

    from qjgeo.evaluation import STAGE_TITLES, STAGES

    t = _TEXT["en" if lang == "en" else "zh"]
    names = _township_names(dataset)
    ctx: dict[str, Any] = {
        "lang": "en" if lang == "en" else "zh",
        "stage_name": STAGE_TITLES[stage][0 if lang != "en" else 1],
        "stage_year": STAGES[stage],
        "scope": scope,
        "scope_name": t["district"] if scope == "district" else names.get(scope, scope),
        "date": (date or dt.date.today()).isoformat(),
        "dataset": dataset.info.id,
        "maps": _map_maker(dataset, graph, lang, map_dpi),
        "cover_note": cover_note,
    }
    doc = Document()
    _set_fonts(doc)
    doc.core_properties.title = t["title"].format(stage=ctx["stage_name"])
    _cover(doc, evaluation, ctx, t)
    _summary(doc, evaluation, ctx, t)
    doc.add_heading(t["areas_h"], level=1)
    areas = _sections(evaluation).map(area_of)
    for area in AREAS:
        _area_section(doc, area, evaluation[areas == area[0]], ctx, t)
    _sex_section(doc, dataset, ctx, t)
    _annex(doc, dataset, series, ctx, t)
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()


def write_evaluation_docx(
    dataset: Dataset,
    evaluation: pd.DataFrame,
    series: pd.DataFrame,
    path: str | Path,
    **options: Any,
) -> Path:
    """Write the evaluation report to ``path`` (atomically); options as :func:`evaluation_docx_bytes`."""
    target = Path(path)
    write_atomic(target, evaluation_docx_bytes(dataset, evaluation, series, **options))
    return target
