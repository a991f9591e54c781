"""Tests for nba_ml.shots.pictures: court lines, PNGs from tiny hand-built charts, bad shapes, no open figures."""

import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch
from matplotlib.patches import Circle

from nba_ml.shots.charts import cell_centres, draw_shots, encode_density
from nba_ml.shots.court import CORNER_THREE_X
from nba_ml.shots.pictures import (
    COURT_EXTENT,
    _colour_top,
    draw_half_court,
    plot_chart_grid,
    plot_position_grid,
    plot_real_vs_generated,
    plot_shots,
)

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
GRID = 16


def hand_charts() -> torch.Tensor:
    """(3, 1, 16, 16) encoded charts: a rim-only big, an arc shooter, uniform."""
    x, y = cell_centres(GRID)
    distance = np.hypot(x, y)
    shapes = [distance < 40, (distance > 230) & (distance < 270), np.ones_like(x, bool)]
    densities = torch.tensor(np.stack([shape / shape.sum() for shape in shapes]), dtype=torch.float32)
    return encode_density(densities).unsqueeze(1)


def is_png(path) -> bool:
    return path.read_bytes()[:8] == PNG_SIGNATURE


@pytest.fixture(autouse=True)
def no_figures_left_open():
    plt.close("all")
    yield
    assert plt.get_fignums() == []


def test_draw_half_court_stays_on_the_court():
    fig, ax = plt.subplots()
    draw_half_court(ax)
    limits = ax.dataLim  # every line and patch, arcs over their drawn angles only
    assert (limits.x0, limits.x1, limits.y0, limits.y1) == pytest.approx(COURT_EXTENT)
    assert ax.get_xlim() == pytest.approx(COURT_EXTENT[:2]) and ax.get_ylim() == pytest.approx(COURT_EXTENT[2:])
    assert ax.get_aspect() == 1.0 and not ax.axison
    hoops = [p for p in ax.patches if isinstance(p, Circle) and p.center == (0, 0)]
    assert [hoop.radius for hoop in hoops] == [7.5]
    corner_xs = sorted(line.get_xdata()[0] for line in ax.lines if len(set(line.get_xdata())) == 1)
    assert corner_xs == [-CORNER_THREE_X, CORNER_THREE_X]
    plt.close(fig)


def test_colour_top_is_the_cell_where_the_densest_cells_reach_a_fifth_of_attempts():
    assert _colour_top(np.array([[0.5, 0.3], [0.2, 0.0]])) == 0.5  # one cell already holds a fifth
    spread = np.array([0.15, 0.1] + [0.75 / 18] * 18)  # 0.15 alone is short of 0.2; with 0.1 it is past
    assert _colour_top(spread.reshape(4, 5)) == 0.1
    assert _colour_top(np.full((4, 4), 1 / 16)) == 1 / 16  # uniform: one colour everywhere


def test_plot_chart_grid_writes_a_png(tmp_path):
    charts = hand_charts().requires_grad_()  # generator output straight from a model
    path = plot_chart_grid(charts, tmp_path / "sub" / "grid.png", titles=["big", "shooter", "uniform"], ncols=2, title="t")
    assert path == tmp_path / "sub" / "grid.png" and is_png(path)
    assert [p.name for p in path.parent.iterdir()] == ["grid.png"]  # no temporary file left behind


def test_plot_position_grid_writes_a_png_with_short_and_empty_rows(tmp_path):
    charts = hand_charts()
    by_position = {"G": charts[1:], "F": charts, "C": charts[:0]}
    assert is_png(plot_position_grid(by_position, tmp_path / "positions.png", per_position=2))


def test_plot_real_vs_generated_writes_a_png(tmp_path):
    generated = torch.randn(5, 2, GRID, GRID).clamp(-1, 1)  # two channels, more charts than n
    assert is_png(plot_real_vs_generated(hand_charts(), generated, tmp_path / "rvg.png", n=4))


def test_plot_shots_writes_a_png_for_drawn_shots(tmp_path):
    shots = draw_shots(hand_charts(), 50, seed=0, chart_ids=["big", "shooter", "uniform"])
    assert is_png(plot_shots(shots, tmp_path / "shots.png", max_charts=2, title="drawn"))


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda path: plot_chart_grid(torch.zeros(2, GRID, GRID), path), r"charts must be a tensor of shape \(N, C, S, S\)"),
        (lambda path: plot_chart_grid(torch.zeros(2, 1, 8, GRID), path), r"charts must be .* got \(2, 1, 8, 16\)"),
        (lambda path: plot_chart_grid(torch.zeros(0, 1, GRID, GRID), path), "charts holds no charts"),
        (lambda path: plot_chart_grid(hand_charts(), path, titles=["one"]), "titles has 1 entries for 3 charts"),
        (lambda path: plot_position_grid({"G": hand_charts(), "F": torch.zeros(GRID, GRID)}, path), r"charts_by_position\['F'\] must be"),
        (lambda path: plot_position_grid({}, path), "charts_by_position is empty"),
        (lambda path: plot_real_vs_generated(hand_charts()[0], hand_charts(), path), "real must be a tensor"),
        (lambda path: plot_real_vs_generated(hand_charts(), hand_charts()[:, 0], path), "generated must be a tensor"),
        (lambda path: plot_shots(draw_shots(hand_charts(), 5, seed=0).drop(columns="SHOT_ZONE_BASIC"), path),
         r"shots is missing column\(s\) \['SHOT_ZONE_BASIC'\]"),
        (lambda path: plot_shots(draw_shots(hand_charts(), 5, seed=0), path, max_charts=0), "max_charts must be at least 1"),
    ],
)
def test_bad_arguments_raise_naming_the_argument(tmp_path, call, match):
    with pytest.raises(ValueError, match=match):
        call(tmp_path / "bad.png")
    assert not (tmp_path / "bad.png").exists()


def test_a_failed_save_still_closes_the_figure(tmp_path):
    (tmp_path / "file").write_text("not a folder")
    with pytest.raises(OSError):
        plot_chart_grid(hand_charts(), tmp_path / "file" / "grid.png")
