"""PNG charts of a digest, drawn by matplotlib in a CJK font, byte-identical when drawn again.

The font is Noto Sans CJK from the Debian package `fonts-noto-cjk` (or HOTLINE_CHART_FONT, a path to
any .ttf/.otf/.ttc with Chinese glyphs). PNGs carry no timestamp; the "Software" tag is dropped too, so
only a different matplotlib or font version changes the bytes.
"""

import io
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # no display on servers; must precede pyplot-free Figure use in threads

from matplotlib import font_manager  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402

from digest.figures import CountRow, ThreeRates, WeeklyDigest  # noqa: E402

FONT_ENV = "HOTLINE_CHART_FONT"
FONT_CANDIDATES = (
    Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"),  # Debian/Ubuntu fonts-noto-cjk
    Path("/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc"),  # Arch, Fedora
    Path("/usr/share/fonts/google-noto-cjk/NotoSansCJK-Regular.ttc"),
    Path("/System/Library/Fonts/PingFang.ttc"),  # macOS
)
PREVIOUS_COLOUR, CURRENT_COLOUR = "#b8c4d6", "#1f5fa8"
RATE_COLOURS = ("#1f5fa8", "#2e8b57", "#d98c1f")
_DRAW_LOCK = threading.Lock()


class ChartFontMissing(RuntimeError):
    """No CJK font: Chinese labels would come out as empty boxes, so no chart is drawn."""


@dataclass(frozen=True)
class Chart:
    name: str  # file name, e.g. digest-2026-W48-category.png
    title: str
    png: bytes


@lru_cache(maxsize=1)
def cjk_family() -> str:
    """Register the CJK font with matplotlib once and return its family name."""
    configured = os.environ.get(FONT_ENV)
    candidates = [Path(configured)] if configured else list(FONT_CANDIDATES)
    for path in candidates:
        if path.is_file():
            font_manager.fontManager.addfont(str(path))
            # A .ttc registers several faces; the Simplified Chinese one, when present, is preferred.
            names = {f.name for f in font_manager.fontManager.ttflist if Path(f.fname) == path}
            for preferred in ("Noto Sans CJK SC", "PingFang SC"):
                if preferred in names:
                    return preferred
            return sorted(names)[0]
    raise ChartFontMissing(
        "no CJK font found: install the Debian package fonts-noto-cjk or set "
        f"{FONT_ENV} to a .ttf/.otf/.ttc file with Chinese glyphs"
    )


@contextmanager
def _drawing(width: float, height: float) -> Iterator[Figure]:
    """A figure in the CJK font. matplotlib's rcParams are process-wide, so drawing is serialised."""
    family = cjk_family()
    with (
        _DRAW_LOCK,
        matplotlib.rc_context({"font.family": [family, "DejaVu Sans"], "axes.unicode_minus": False}),
    ):
        yield Figure(figsize=(width, height), dpi=100, layout="constrained")


def _png(fig: Figure) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", metadata={"Software": None})
    return buffer.getvalue()


def counts_chart(rows: list[CountRow], title: str, limit: int = 12) -> bytes:
    """Grouped bars: this week against the week before."""
    rows = rows[:limit]
    with _drawing(7.5, 3.6) as fig:
        ax = fig.subplots()
        xs = list(range(len(rows)))
        ax.bar([x - 0.2 for x in xs], [r.previous for r in rows], 0.4, label="上周", color=PREVIOUS_COLOUR)
        bars = ax.bar([x + 0.2 for x in xs], [r.count for r in rows], 0.4, label="本周", color=CURRENT_COLOUR)
        ax.bar_label(bars, fontsize=8)
        ax.set_xticks(xs, [r.label for r in rows], fontsize=9)
        ax.set_title(title, fontsize=12)
        ax.set_ylabel("件数")
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        ax.legend(frameon=False, fontsize=9)
        ax.spines[["top", "right"]].set_visible(False)
        return _png(fig)


def rates_chart(rows: list[ThreeRates], title: str) -> bytes:
    """Grouped bars of the three rates per department, in percent (a gap where nothing fell due)."""
    series = (("签收及时率", "response"), ("按时办结率", "completion"), ("满意率", "satisfaction"))
    with _drawing(8.5, 3.8) as fig:
        ax = fig.subplots()
        xs = list(range(len(rows)))
        for i, (label, attr) in enumerate(series):
            values = [getattr(r, attr).value for r in rows]
            ax.bar(
                [x + (i - 1) * 0.27 for x in xs],
                [0 if v is None else v * 100 for v in values],
                0.27,
                label=label,
                color=RATE_COLOURS[i],
            )
        names = [r.department_name.removeprefix("河源市") for r in rows]
        ax.set_xticks(xs, names, fontsize=8, rotation=30, ha="right")
        ax.set_ylabel("%")
        ax.set_title(title, fontsize=12)
        ax.legend(frameon=False, fontsize=8, ncols=3, loc="upper center", bbox_to_anchor=(0.5, 1.0))
        ax.set_ylim(0, 118)
        ax.spines[["top", "right"]].set_visible(False)
        return _png(fig)


def digest_charts(d: WeeklyDigest) -> list[Chart]:
    """The charts of one digest, in the order the HTML shows them."""
    prefix = f"digest-{d.week}"
    charts = [
        Chart(
            f"{prefix}-category.png",
            "新增举报（按类别）",
            counts_chart(d.by_category, f"{d.week} 新增举报（按类别）"),
        ),
        Chart(
            f"{prefix}-county.png",
            "新增举报（按县区）",
            counts_chart(d.by_county, f"{d.week} 新增举报（按县区）"),
        ),
    ]
    if d.rates_by_department:
        charts.append(
            Chart(
                f"{prefix}-rates.png",
                "各单位三率",
                rates_chart(d.rates_by_department, f"{d.week} 各单位三率"),
            )
        )
    return charts
