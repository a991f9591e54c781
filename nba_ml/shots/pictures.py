"""Shot charts as pictures: densities and drawn shots on a half court, saved as PNG, SVG or PDF (the suffix of the name).

Every picture is drawn in the court frame of `nba_ml.shots.court` (tenths of a
foot, hoop at (0, 0), baseline at the bottom), so a chart's image, the court
lines and a scatter of shots share one set of axes. A chart (N, C, S, S) has
row 0 on the baseline and column 0 on the left sideline, which is imshow's
origin='lower' over `COURT_EXTENT`.

Colours. Each panel shows its chart's decoded attempt density (`decode_density`)
on a power-law scale (gamma 0.5: colour follows sqrt(p), the encoding the GAN
sees). The top of the scale is set per panel so that the densest cells holding
`SATURATED_MASS` (a fifth) of the chart's attempts share the brightest colour.
With the top at the single busiest cell, a big man's chart is one bright rim
cell on black and a forward's three-point arc is barely visible; a quantile of
cells instead would depend on the grid size. Colours are therefore relative
within a panel: the shape of a shot diet compares between panels, absolute
cell probabilities do not.

Real beside generated: like beside like. A real chart is a few hundred shots, a
generated one a smooth density; drawn as densities, the real chart is speckle
and the generated one looks blurred whatever its quality. So every picture that
sets real against generated (`plot_real_vs_generated`, `plot_models_against_real`,
`plot_player_cards`) draws the same number of shots from both, with the
package's own samplers (`draw_shots`, `PlayerProfiles.sample`), and shows them
as dots: the two sides then carry the same sampling noise, which is also what
the quality metrics compare (K shots per chart on both sides). Densities alone
(`plot_chart_grid`, `plot_position_grid`) are for generated charts or basis
maps on their own.
"""

from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import numpy as np
import pandas as pd
import torch
from matplotlib import patheffects
from matplotlib.axes import Axes
from matplotlib.colors import PowerNorm
from matplotlib.lines import Line2D
from matplotlib.patches import Arc, Circle, Rectangle
from torch import Tensor

from nba_ml.errors import InputError, counted
from nba_ml.frames import require_columns
from nba_ml.io import check_output
from nba_ml.plots import plt, save_figure  # pyplot on the headless Agg backend, chosen once in nba_ml.plots
from nba_ml.shots import court
from nba_ml.shots.charts import decode_density, draw_shots, on_grid
from nba_ml.shots.player.make_model import shot_value
from nba_ml.shots.player.records import normalise_ids

COURT_EXTENT = (-court.SIDELINE_X, court.SIDELINE_X, court.BASELINE_Y, court.HALF_COURT_Y)  # imshow extent
DENSITY_CMAP = "inferno"  # perceptual, dark where no one shoots: hot spots stand out
DENSITY_GAMMA = 0.5  # colour ~ sqrt(p): the rim spike no longer hides the arc
SATURATED_MASS = 0.2  # the densest cells holding this share of attempts get the top colour
COURT_LINE_COLOUR = "0.85"  # light lines read on inferno's black background...
COURT_LINE_HALO = "0.1"  # ...and a dark outline keeps them readable over bright cells
PANEL_INCHES = 2.6  # width of one court panel; height follows the court's 470 / 500
PICTURE_DPI = 110  # pixels per inch of a saved PNG: a 2.6 in panel is 286 pixels wide
DEFAULT_SHOTS_PER_CHART = 200  # shots drawn from each chart set real against generated: the shipped K
CARD_SHOTS_WITHOUT_RECORD = 200  # shots a player card simulates for a player with no usable record
FREE_THROW_CIRCLE_RADIUS = 60.0  # 6 ft, also the centre circle at half court
HOOP_RADIUS = 7.5  # 18 in rim
BACKBOARD_Y = -7.5  # backboard face 4 ft in front of the baseline
BACKBOARD_HALF_WIDTH = 30.0  # 6 ft wide

# One fixed colour per SHOT_ZONE_BASIC name, so a zone looks the same in every picture.
ZONE_COLOURS = {
    court.RESTRICTED_AREA: "#d62728",
    court.PAINT_NON_RA: "#ff7f0e",
    court.MID_RANGE: "#2ca02c",
    court.LEFT_CORNER_3: "#9467bd",
    court.RIGHT_CORNER_3: "#e377c2",
    court.ABOVE_THE_BREAK_3: "#1f77b4",
    court.BACKCOURT: "#7f7f7f",
}
OTHER_ZONE_COLOUR = "#000000"  # a zone name outside court.ZONES
SHORT_ZONES = {"Restricted Area": "Restricted", "In The Paint (Non-RA)": "Paint", "Mid-Range": "Mid-range",
               "Left Corner 3": "Left corner 3", "Right Corner 3": "Right corner 3", "Above the Break 3": "Above break 3"}
SHOT_COLUMNS = ("CHART_ID", "LOC_X", "LOC_Y", "SHOT_ZONE_BASIC")


# --- Court --------------------------------------------------------------------


def draw_half_court(ax: Axes, color: str = "0.2", lw: float = 1.0, halo: str | None = None) -> Axes:
    """Draw the half-court lines on `ax` in court units; equal aspect, axes off, limits = the court.

    `halo`: colour of a thin outline behind each line, so the lines read over any
    image (light lines on a saturated cell); None draws no outline.
    """
    arc_start = np.degrees(np.arctan2(court.ARC_MEETS_CORNER_Y, court.CORNER_THREE_X))  # ~22 degrees
    free_throw_centre = (0.0, court.FREE_THROW_LINE_Y)
    outline = [] if halo is None else [patheffects.withStroke(linewidth=2.5 * lw, foreground=halo)]
    line = dict(color=color, lw=lw, zorder=3, path_effects=outline)  # zorder 3: above any chart image
    patch = dict(edgecolor=color, lw=lw, fill=False, zorder=3, path_effects=outline)
    paint_height = court.FREE_THROW_LINE_Y - court.BASELINE_Y
    patches = [
        # Court boundary: baseline, sidelines, half-court line (unclipped so the edges show whole).
        Rectangle((-court.SIDELINE_X, court.BASELINE_Y), 2 * court.SIDELINE_X, court.HALF_COURT_Y - court.BASELINE_Y, clip_on=False, **patch),
        Rectangle((-court.PAINT_HALF_WIDTH, court.BASELINE_Y), 2 * court.PAINT_HALF_WIDTH, paint_height, **patch),
        Circle((court.HOOP_X, court.HOOP_Y), HOOP_RADIUS, **patch),
        Arc(free_throw_centre, 2 * FREE_THROW_CIRCLE_RADIUS, 2 * FREE_THROW_CIRCLE_RADIUS, theta1=0, theta2=180, **patch),
        Arc(free_throw_centre, 2 * FREE_THROW_CIRCLE_RADIUS, 2 * FREE_THROW_CIRCLE_RADIUS, theta1=180, theta2=360, linestyle="--", **patch),
        Arc((0.0, 0.0), 2 * court.RESTRICTED_AREA_RADIUS, 2 * court.RESTRICTED_AREA_RADIUS, theta1=0, theta2=180, **patch),
        Arc((0.0, 0.0), 2 * court.THREE_POINT_ARC_RADIUS, 2 * court.THREE_POINT_ARC_RADIUS, theta1=arc_start, theta2=180 - arc_start, **patch),
        Arc((0.0, court.HALF_COURT_Y), 2 * FREE_THROW_CIRCLE_RADIUS, 2 * FREE_THROW_CIRCLE_RADIUS, theta1=180, theta2=360, **patch),
    ]
    for artist in patches:
        ax.add_patch(artist)
    ax.add_line(Line2D([-BACKBOARD_HALF_WIDTH, BACKBOARD_HALF_WIDTH], [BACKBOARD_Y, BACKBOARD_Y], **line))
    for side in (-1, 1):  # straight corner-three lines, baseline up to where the arc starts
        ax.add_line(Line2D([side * court.CORNER_THREE_X] * 2, [court.BASELINE_Y, court.ARC_MEETS_CORNER_Y], **line))
    ax.set_xlim(COURT_EXTENT[0], COURT_EXTENT[1])
    ax.set_ylim(COURT_EXTENT[2], COURT_EXTENT[3])
    ax.set_aspect("equal")
    ax.set_axis_off()
    return ax


# --- Charts -------------------------------------------------------------------


def plot_chart_grid(
    charts: Tensor, path: str | Path, *, titles: list[str] | None = None, ncols: int = 4, title: str = ""
) -> Path:
    """Each chart's attempt density on a court, `ncols` panels a row, saved as one picture at `path`.

    Densities: for generated charts or basis maps on their own; real beside generated is plot_real_vs_generated."""
    densities = _densities(charts, "charts")
    if titles is not None and len(titles) != len(densities):
        raise ValueError(f"titles has {len(titles)} entries for {len(densities)} charts")
    if ncols < 1:
        raise ValueError(f"ncols must be at least 1, got {ncols}")
    ncols = min(ncols, len(densities))
    nrows = -(-len(densities) // ncols)
    with _court_figure(nrows, ncols, path, title) as axes:
        for i, ax in enumerate(axes.flat):
            if i < len(densities):
                _draw_density(ax, densities[i], None if titles is None else titles[i])
            else:
                ax.set_axis_off()
    return Path(path)


def plot_position_grid(
    charts_by_position: dict[str, Tensor], path: str | Path, *, per_position: int = 4, title: str = ""
) -> Path:
    """One row per position group (dict order, e.g. G, F, C), its first `per_position` charts across, as densities.

    For generated charts on their own (`nba-ml train`'s picture); real beside generated is plot_real_vs_generated."""
    if not charts_by_position:
        raise ValueError("charts_by_position is empty; give at least one position group")
    if per_position < 1:
        raise ValueError(f"per_position must be at least 1, got {per_position}")
    rows = {group: _densities(charts, f"charts_by_position[{group!r}]", allow_empty=True)[:per_position]
            for group, charts in charts_by_position.items()}
    ncols = max(1, max(len(densities) for densities in rows.values()))
    with _court_figure(len(rows), ncols, path, title) as axes:
        for row_axes, (group, densities) in zip(axes, rows.items()):
            for i, ax in enumerate(row_axes):
                if i < len(densities):
                    _draw_density(ax, densities[i], None)
                else:
                    ax.set_axis_off()
            if len(densities) == 0:
                row_axes[0].text(0.5, 0.5, "no charts", transform=row_axes[0].transAxes, ha="center", va="center", color="0.5")
            _row_label(row_axes, group)
    return Path(path)


# --- Real beside generated ----------------------------------------------------


def plot_real_vs_generated(real: Tensor, generated: Tensor | dict[str, Tensor], path: str | Path, *, n: int = 4,
                           shots_per_chart: int = DEFAULT_SHOTS_PER_CHART, seed: int = 0,
                           column_titles: list[str] | None = None, title: str = "") -> Path:
    """Top row: the first `n` real charts; below, the first `n` generated ones (a row per entry when `generated`
    is a dict, e.g. run name -> charts). Every chart, real or generated, is drawn alike (module docstring):
    `shots_per_chart` shots drawn from it by draw_shots (row r with seed + r), as dots coloured by zone; for a real
    chart that is a resample of its own shots, each moved less than a cell. `column_titles` head the columns
    (what the charts of a column share, such as a position group)."""
    if n < 1:
        raise ValueError(f"n must be at least 1, got {n}")
    if isinstance(generated, dict) and not generated:
        raise ValueError("generated is empty; give at least one set of generated charts")
    if isinstance(generated, dict) and "real" in generated:
        raise ValueError("generated has an entry named 'real', the name of the real charts' row; rename it")
    named = {f"generated[{name!r}]": (name, charts) for name, charts in generated.items()} \
        if isinstance(generated, dict) else {"generated": ("generated", generated)}
    rows = {}
    for r, (argument, (label, charts)) in enumerate({"real": ("real", real), **named}.items()):
        _check_charts(charts, argument)
        rows[label] = draw_shots(charts[:n], shots_per_chart, seed=seed + r)
    ncols = max(int(shots["CHART_ID"].max()) + 1 for shots in rows.values())
    if column_titles is not None and len(column_titles) != ncols:
        raise ValueError(f"column_titles has {len(column_titles)} entries for {ncols} columns")
    present = _zones_present(pd.concat(rows.values()))
    with _court_figure(len(rows), ncols, path, title, legend_rows=-(-len(present) // 4)) as axes:
        for row_axes, (label, shots) in zip(axes, rows.items()):
            for i, ax in enumerate(row_axes):
                chart = shots[shots["CHART_ID"] == i]
                if len(chart):
                    _draw_shots(ax, chart, None)
                else:
                    ax.set_axis_off()
            _row_label(row_axes, label)
        for ax, column in zip(axes[0], column_titles or []):
            ax.set_title(column, fontsize=9)
        _zone_legend(axes, present)
    return Path(path)


def plot_models_against_real(models: dict, real, path: str | Path, *, per_group: int = 2,
                             shots_per_chart: int | None = None, seed: int = 0, title: str = "") -> Path:
    """Real charts (a ShotCharts) beside charts generated by each of `models` (name -> ShotChartModel) for the same
    position groups: `per_group` columns per group of the first model (G, F, C), a seeded pick of the real charts
    of that group on top and, below, a row per model generated for that group (seed + the group's index); drawn
    alike by plot_real_vs_generated, `shots_per_chart` shots from every chart (default: the first model's K, the
    number its quality metrics judge). An unconditional model: a seeded pick of any real charts, as many."""
    if not models:
        raise ValueError("models is empty; give at least one model")
    if per_group < 1:
        raise ValueError(f"per_group must be at least 1, got {per_group}")
    first = next(iter(models.values()))
    shots_per_chart = first.config.shots_per_chart if shots_per_chart is None else shots_per_chart
    pick = torch.Generator().manual_seed(seed)
    if not first.conditional:
        chosen = torch.randperm(len(real.charts), generator=pick)[:per_group * max(1, len(first.position_groups))]
        generated = {name: model.generate_charts(len(chosen), seed=seed)[0] for name, model in models.items()}
        return plot_real_vs_generated(real.charts[chosen], generated, path, n=len(chosen),
                                      shots_per_chart=shots_per_chart, seed=seed, title=title)
    reals, columns, generated = [], [], {name: [] for name in models}
    for g, group in enumerate(first.position_groups):
        of_group = torch.nonzero(real.labels == real.position_groups.index(group)).flatten() \
            if group in real.position_groups else torch.zeros(0, dtype=torch.long)
        chosen = of_group[torch.randperm(len(of_group), generator=pick)[:per_group]]
        if len(chosen) == 0:  # no real chart of this group: no column for it
            continue
        reals.append(real.charts[chosen])
        columns += [group] * len(chosen)
        for name, model in models.items():
            generated[name].append(model.generate_charts(len(chosen), position=group, seed=seed + g)[0])
    if not reals:
        raise ValueError(f"real holds no chart of the models' position groups {list(first.position_groups)}")
    return plot_real_vs_generated(torch.cat(reals), {name: torch.cat(charts) for name, charts in generated.items()},
                                  path, n=len(columns), shots_per_chart=shots_per_chart, seed=seed,
                                  column_titles=columns, title=title)


# --- Drawn shots --------------------------------------------------------------


def plot_shots(shots: pd.DataFrame, path: str | Path, *, title: str = "", max_charts: int = 4) -> Path:
    """Scatter of drawn shots (the `draw_shots` frame) coloured by SHOT_ZONE_BASIC, one panel per CHART_ID."""
    require_columns(shots, SHOT_COLUMNS, "shots")
    if shots.empty:
        raise ValueError("shots has no rows")
    if max_charts < 1:
        raise ValueError(f"max_charts must be at least 1, got {max_charts}")
    chart_ids = pd.unique(shots["CHART_ID"])[:max_charts]  # order of first appearance
    shown = shots[shots["CHART_ID"].isin(chart_ids)]
    present = _zones_present(shown)
    with _court_figure(1, len(chart_ids), path, title, legend_rows=-(-len(present) // 4)) as axes:
        for ax, chart_id in zip(axes[0], chart_ids):
            chart = shown[shown["CHART_ID"] == chart_id]
            _draw_shots(ax, chart, f"{chart_id} ({len(chart)} shots)")
        _zone_legend(axes, present)
    return Path(path)


# --- Player cards -------------------------------------------------------------


def plot_player_cards(profiles, path: str | Path, *, observed: pd.DataFrame | None = None, players=None,
                      max_players: int = 4, title: str = "") -> Path:
    """A card per player (the first `max_players` of `players`, default the profiles'), titled with his PLAYER_NAME
    where `observed` has one (else his id) and his position group: his recorded shots (when `observed` is given),
    a season simulated from his profile with as many shots (PlayerProfiles.sample, one draw, the profiles' seed),
    and his FG% by zone against the league's (in %, with the profiles' 90% intervals).

    The record and the simulated season are drawn alike (module docstring): the same number of dots, made and
    missed apart when both sides know outcomes (the record has SHOT_MADE_FLAG and the profiles a make model),
    else in one colour. A player with no usable record gets CARD_SHOTS_WITHOUT_RECORD simulated shots."""
    if max_players < 1:
        raise ValueError(f"max_players must be at least 1, got {max_players}")
    ids = list(profiles.player_ids if players is None else players)[:max_players]
    rows = profiles.rows_of(ids)
    table = profiles.table(players=ids)  # the shown players' rows alone: all of a season's take seconds
    zones = list(court.ZONES[:6])
    record_ids = normalise_ids(observed["PLAYER_ID"]) if observed is not None and "PLAYER_ID" in observed else None
    outcomes = profiles.has_makes and (observed is None or "SHOT_MADE_FLAG" in observed)
    with _court_figure(len(ids), 3, path, title) as axes:
        for (record_ax, simulated_ax, fg_ax), player, row in zip(axes, ids, rows):
            info = profiles.players.iloc[int(row)]
            mine = observed[(record_ids == player).to_numpy()] if record_ids is not None else None
            if mine is not None:
                on_court = on_grid(pd.to_numeric(mine["LOC_X"], errors="coerce").to_numpy(np.float64),
                                   pd.to_numeric(mine["LOC_Y"], errors="coerce").to_numpy(np.float64))
                mine = mine[on_court]
                made = (mine["SHOT_MADE_FLAG"] == 1).to_numpy() if outcomes else None
                _draw_record(record_ax, mine["LOC_X"], mine["LOC_Y"], made, "record")
            else:
                draw_half_court(record_ax)
                record_ax.set_title("no record given", fontsize=8)
            shots = int(info["SHOTS"]) or CARD_SHOTS_WITHOUT_RECORD
            season = profiles.sample({player: shots}, draws=1, seed=profiles.seed)
            made = season["MADE"].to_numpy() == 1 if outcomes else None
            _draw_record(simulated_ax, season["LOC_X"], season["LOC_Y"], made, "simulated")
            _row_label(np.array([record_ax]), f"{_player_name(mine, player)} ({info['POSITION_GROUP'] or 'position unknown'})")
            mine_table = table[(table["PLAYER_ID"] == player) & table["SHOT_ZONE_BASIC"].isin(zones)].set_index("SHOT_ZONE_BASIC").loc[zones]
            _fg_bars(fg_ax, mine_table)
    return Path(path)


def _player_name(record: pd.DataFrame | None, player) -> str:
    """His PLAYER_NAME in his rows of the record (the most common spelling), else his id."""
    if record is None or "PLAYER_NAME" not in record:
        return str(player)
    names = record["PLAYER_NAME"].dropna().astype(str).str.strip()
    names = names[names != ""]
    return str(names.mode().iloc[0]) if len(names) else str(player)


def _draw_record(ax: Axes, loc_x, loc_y, made: np.ndarray | None, label: str) -> None:
    """Shots as dots on a court: made and missed apart (`made`, 0/1 per shot), or in one colour (None)."""
    count = len(loc_x)
    if made is None:
        ax.scatter(loc_x, loc_y, s=5, c="#1f77b4", alpha=0.6, linewidths=0, zorder=2)
        ax.set_title(f"{label}: {counted(count, 'shot')}", fontsize=8)
    else:
        made = np.asarray(made, dtype=bool)
        x, y = np.asarray(loc_x, dtype=np.float64), np.asarray(loc_y, dtype=np.float64)
        ax.scatter(x[made], y[made], s=6, c="#2ca02c", alpha=0.7, linewidths=0, zorder=2, label="made")
        ax.scatter(x[~made], y[~made], s=6, c="#d62728", marker="x", alpha=0.6, linewidths=0.6, zorder=2, label="missed")
        ax.legend(loc="upper right", fontsize=6, frameon=False)
        share = f", {made.mean():.0%} made" if count else ""
        ax.set_title(f"{label}: {counted(count, 'shot')}{share}", fontsize=8)
    draw_half_court(ax)


def _fg_bars(ax: Axes, table: pd.DataFrame) -> None:
    """FG% per zone, his (with the interval) against the league's, labelled in %."""
    ax.set_aspect("auto")
    y = np.arange(len(table))[::-1]
    fg, lo, hi = (table[c].to_numpy() * 100 for c in ("FG", "FG_LO", "FG_HI"))
    league = table["LEAGUE_FG"].to_numpy() * 100
    colours = [ZONE_COLOURS.get(zone, OTHER_ZONE_COLOUR) for zone in table.index]
    ax.barh(y, fg, color=colours, alpha=0.75, height=0.6)
    ax.errorbar(fg, y, xerr=[fg - lo, hi - fg], fmt="none", ecolor="0.15", elinewidth=0.8, capsize=2)
    ax.scatter(league, y, marker="|", s=120, c="0.1", zorder=3, label="league")
    for yi, value, top, share in zip(y, fg, hi, table["SHARE"].to_numpy()):
        ax.text(top + 1.5, yi, f"{value:.0f}% ({share:.0%} of shots)", va="center", fontsize=6)
    ax.set_yticks(y, [SHORT_ZONES.get(zone, zone) for zone in table.index], fontsize=7)
    ax.set_xlim(0, 100)
    ax.set_xlabel("FG% (90% interval; | league)", fontsize=7)
    ax.tick_params(axis="x", labelsize=7)
    ax.set_title("how well: FG% by zone", fontsize=8)


# --- Defense card -------------------------------------------------------------

DEFENSE_CARD_COLUMNS = ("DEFENSE", "SHOT_ZONE_BASIC", "SHARE", "SHARE_EXPECTED", "SHARE_ALLOWED", "SHARE_LO", "SHARE_HI",
                        "FG", "FG_EXPECTED", "FG_ALLOWED", "FG_LO", "FG_HI")


def plot_defense_card(defenses: pd.DataFrame, path: str | Path, *, title: str = "") -> Path:
    """Every defense on one card, best first: the points per shot it allowed against what its opponents would have
    scored (the model's, and the record's raw difference), then per zone the share of shots and the FG% it
    allowed less what its opponents would have shot (percentage points; a ring where the 90% interval leaves
    out what was expected). `defenses`: `profiles.defenses` or a profiles directory's defenses.csv."""
    out = check_output(path, "picture")  # before drawing
    require_columns(defenses, DEFENSE_CARD_COLUMNS, "defenses")
    repeated = defenses.duplicated(["DEFENSE", "SHOT_ZONE_BASIC"])
    if repeated.any() or defenses.empty:
        raise InputError("defenses has no rows; expected one per defense and zone" if defenses.empty else
                         f"defenses has {counted(int(repeated.sum()), 'row')} of a (DEFENSE, SHOT_ZONE_BASIC) already "
                         "given; expected one row per defense and zone")
    text = [c for c in DEFENSE_CARD_COLUMNS[2:] if not pd.api.types.is_numeric_dtype(defenses[c])]
    if text:
        raise InputError(f"defenses: column {text[0]} holds text; expected numbers (shares and FG% from 0 to 1)")
    zones = list(court.ZONES[:6])
    wide = {c: defenses.pivot(index="DEFENSE", columns="SHOT_ZONE_BASIC", values=c).reindex(columns=zones)
            for c in DEFENSE_CARD_COLUMNS[2:]}
    value = shot_value(np.arange(len(zones)))

    def points(share: str, fg: str) -> pd.Series:
        return (wide[share] * wide[fg].fillna(0.0) * value).sum(axis=1)

    expected = points("SHARE_EXPECTED", "FG_EXPECTED")
    model = (points("SHARE_ALLOWED", "FG_ALLOWED") - expected).sort_values()
    raw = (points("SHARE", "FG") - expected).reindex(model.index)
    fig, axes = plt.subplots(1, 3, figsize=(13, 1.2 + 0.28 * len(model)), width_ratios=(1, 1.6, 1.6))
    try:
        y = np.arange(len(model))[::-1]
        axes[0].barh(y, 100 * model.to_numpy(), color=np.where(model < 0, "#2c7bb6", "#d7191c"), alpha=0.8, height=0.6,
                     label="model")
        axes[0].scatter(100 * raw.to_numpy(), y, marker="|", s=60, c="0.1", zorder=3, label="record")
        axes[0].axvline(0, color="0.3", lw=0.6)
        axes[0].set_yticks(y, model.index, fontsize=7)
        axes[0].set_xlabel("points per 100 shots allowed\nless expected", fontsize=7)
        axes[0].legend(fontsize=6, frameon=False, loc="lower right")
        axes[0].set_title("overall (best defense on top)", fontsize=8)
        for ax, name, label in ((axes[1], "SHARE", "share of shots allowed"), (axes[2], "FG", "FG% allowed")):
            _allowed_heatmap(ax, wide, name, model.index, label)
        if title:
            fig.suptitle(title)
        fig.tight_layout()
        return save_figure(fig, out, dpi=PICTURE_DPI)
    finally:
        plt.close(fig)


def _allowed_heatmap(ax: Axes, wide: dict, name: str, order: pd.Index, label: str) -> None:
    """Per defense (rows, in `order`) and zone: the model's value allowed less expected, in percentage points,
    written in each cell; ringed where its 90% interval leaves out the expected value."""
    allowed, expected = wide[f"{name}_ALLOWED"].loc[order], wide[f"{name}_EXPECTED"].loc[order]
    lo, hi = wide[f"{name}_LO"].loc[order], wide[f"{name}_HI"].loc[order]
    gap = 100 * (allowed - expected).to_numpy()
    top = max(float(np.nanmax(np.abs(gap))) if np.isfinite(gap).any() else 1.0, 0.5)
    ax.imshow(gap, cmap="RdBu_r", vmin=-top, vmax=top, aspect="auto")
    clear = ((hi < expected) | (lo > expected)).to_numpy()
    for (row, column), value in np.ndenumerate(gap):
        if np.isfinite(value):
            ax.text(column, row, f"{value:+.1f}", ha="center", va="center", fontsize=6,
                    fontweight="bold" if clear[row, column] else "normal")
    rows, columns = np.nonzero(clear)
    ax.scatter(columns, rows, s=260, facecolors="none", edgecolors="0.1", linewidths=0.7)
    ax.set_xticks(range(gap.shape[1]), [SHORT_ZONES[z] for z in wide[f"{name}_ALLOWED"].columns], fontsize=7, rotation=30)
    ax.set_yticks(range(len(order)), order, fontsize=7)
    ax.set_title(f"{label} less expected (pp; ringed: 90% interval clear of it)", fontsize=8)


# --- Shared -------------------------------------------------------------------


def _check_charts(charts: Tensor, name: str, allow_empty: bool = False) -> None:
    """ValueError naming `name` unless `charts` is a tensor (N, C, S, S) with C >= 1 (and N >= 1)."""
    if not isinstance(charts, Tensor) or charts.dim() != 4 or charts.shape[1] < 1 or charts.shape[2] != charts.shape[3]:
        shape = tuple(charts.shape) if isinstance(charts, Tensor) else type(charts).__name__
        raise ValueError(f"{name} must be a tensor of shape (N, C, S, S) with C >= 1, got {shape}")
    if charts.shape[0] == 0 and not allow_empty:
        raise ValueError(f"{name} holds no charts (N = 0)")


def _densities(charts: Tensor, name: str, allow_empty: bool = False) -> np.ndarray:
    """Decoded attempt densities (N, S, S) as numpy; ValueError naming `name` for a bad shape."""
    _check_charts(charts, name, allow_empty)
    return decode_density(charts.detach().cpu()).numpy()


@contextmanager
def _court_figure(nrows: int, ncols: int, path: str | Path, title: str, legend_rows: int = 0) -> Iterator[np.ndarray]:
    """Yield nrows x ncols court-shaped axes (always 2-D); on exit save the picture atomically, in the format of
    `path`'s suffix (.png, .svg, .pdf; checked before drawing). The figure is always closed."""
    out = check_output(path, "picture")
    height = PANEL_INCHES * (COURT_EXTENT[3] - COURT_EXTENT[2]) / (COURT_EXTENT[1] - COURT_EXTENT[0])
    legend_inches = 0.2 * legend_rows
    fig, axes = plt.subplots(nrows, ncols, figsize=(PANEL_INCHES * ncols, (height + 0.3) * nrows + 0.4 + legend_inches), squeeze=False)
    try:
        yield axes
        if title:
            fig.suptitle(title)
        fig.tight_layout(rect=(0, legend_inches / fig.get_figheight(), 1, 1))  # keep the legend strip free
        save_figure(fig, out, dpi=PICTURE_DPI)
    finally:
        plt.close(fig)


def _draw_density(ax: Axes, density: np.ndarray, label: str | None) -> None:
    """One chart's density as an image under light court lines."""
    norm = PowerNorm(DENSITY_GAMMA, vmin=0.0, vmax=_colour_top(density))
    ax.imshow(density, extent=COURT_EXTENT, origin="lower", cmap=DENSITY_CMAP, norm=norm, interpolation="nearest", zorder=1)
    draw_half_court(ax, color=COURT_LINE_COLOUR, lw=0.6, halo=COURT_LINE_HALO)
    if label is not None:
        ax.set_title(label, fontsize=8)


def _draw_shots(ax: Axes, shots: pd.DataFrame, label: str | None) -> None:
    """One chart's drawn shots as dots coloured by SHOT_ZONE_BASIC, on the court lines."""
    colours = shots["SHOT_ZONE_BASIC"].map(ZONE_COLOURS).fillna(OTHER_ZONE_COLOUR)
    ax.scatter(shots["LOC_X"], shots["LOC_Y"], s=6, c=colours.tolist(), alpha=0.7, linewidths=0, zorder=2)
    draw_half_court(ax)
    if label is not None:
        ax.set_title(label, fontsize=8)


def _zones_present(shots: pd.DataFrame) -> list[str]:
    """The zones of ZONE_COLOURS that `shots` has, in its order (the legend's)."""
    found = set(shots["SHOT_ZONE_BASIC"])
    return [zone for zone in ZONE_COLOURS if zone in found]


def _zone_legend(axes: np.ndarray, zones: list[str]) -> None:
    """The zone colours in a strip along the bottom of the figure (_court_figure's legend_rows make room)."""
    handles = [Line2D([], [], ls="", marker="o", color=ZONE_COLOURS[zone], label=zone) for zone in zones]
    axes[0, 0].figure.legend(handles=handles, loc="lower center", ncol=4, fontsize=7, frameon=False)


def _colour_top(density: np.ndarray) -> float:
    """Density of the cell at which the densest cells first hold SATURATED_MASS of the chart."""
    descending = np.sort(density.ravel())[::-1]
    cell = min(int(np.searchsorted(np.cumsum(descending), SATURATED_MASS)), descending.size - 1)
    return max(float(descending[cell]), float(np.finfo(np.float32).tiny))  # > 0: PowerNorm needs vmax > vmin


def _row_label(row_axes: np.ndarray, label: str) -> None:
    """`label` written up the left side of a row of panels."""
    row_axes[0].text(-0.04, 0.5, label, transform=row_axes[0].transAxes, rotation=90, ha="right", va="center", fontsize=10)
