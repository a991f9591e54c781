"""Tests for nba_ml.shots.pictures: court lines, PNGs from tiny hand-built charts and a tiny model, real and
generated drawn alike, player cards named, bad shapes, no open figures."""

import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch
from matplotlib.patches import Circle

from nba_ml.shots import pictures
from nba_ml.shots.charts import cell_centres, draw_shots, encode_density
from nba_ml.shots.court import CORNER_THREE_X
from nba_ml.shots.pictures import (
    COURT_EXTENT,
    _colour_top,
    draw_half_court,
    plot_chart_grid,
    plot_models_against_real,
    plot_player_cards,
    plot_position_grid,
    plot_real_vs_generated,
    plot_shots,
)
from nba_ml.shots.synthetic import synthetic_league
from nba_ml.shots.training import train_shot_model

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
GRID = 16
TINY = {"charts": {"grid": GRID, "min_shots": 50}, "basis": 4, "shots_per_chart": 30,
        "gan": {"model": {"kind": "mlp", "num_classes": 3, "output": "density", "hidden_dim": 16, "depth": 1,
                          "latent_dim": 8}, "train": {"steps": 5, "batch_size": 16, "log_every": 5}}}


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


@pytest.fixture(scope="module")
def trained():
    """A tiny shot model with a make model, and the charts it was trained on."""
    model, _, charts = train_shot_model(TINY, synthetic_league(30, 120, seed=0))
    return model, charts


@pytest.fixture()
def saved(monkeypatch):
    """What each saved picture shows, panel by panel (row-major): title, dots, images and the text beside it."""
    pictures_saved = []

    def keep(fig, path, dpi=100):
        pictures_saved.append([{"title": ax.get_title(), "dots": sum(len(c.get_offsets()) for c in ax.collections),
                                "images": len(ax.images), "label": [t.get_text() for t in ax.texts]} for ax in fig.axes])
        return save_figure(fig, path, dpi=dpi)

    save_figure = pictures.save_figure
    monkeypatch.setattr(pictures, "save_figure", keep)
    return pictures_saved


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


def test_real_and_generated_charts_are_drawn_alike_as_the_same_number_of_shots(tmp_path, saved):
    generated = {"wgan_gp": hand_charts().flip(0), "wgan": hand_charts()}  # one row per run
    plot_real_vs_generated(hand_charts(), generated, tmp_path / "rvg.png", shots_per_chart=25,
                           column_titles=["big", "shooter", "uniform"])
    panels = saved[0]
    assert [panel["dots"] for panel in panels] == [25] * 9 and [panel["images"] for panel in panels] == [0] * 9
    assert [panel["title"] for panel in panels[:3]] == ["big", "shooter", "uniform"]
    assert [panels[row * 3]["label"] for row in range(3)] == [["real"], ["wgan_gp"], ["wgan"]]


def test_a_model_is_set_against_real_charts_of_the_same_position_groups(tmp_path, saved, trained):
    model, charts = trained
    path = plot_models_against_real({"generated": model}, charts, tmp_path / "models.png", per_group=2, seed=1)
    assert is_png(path)
    panels = saved[0]
    assert [panel["title"] for panel in panels[:6]] == ["G", "G", "F", "F", "C", "C"]
    assert [panel["dots"] for panel in panels] == [TINY["shots_per_chart"]] * 12  # the model's K, on both rows
    assert panels[0]["label"] == ["real"] and panels[6]["label"] == ["generated"]


def test_a_player_card_names_the_player_where_the_record_does_and_simulates_as_many_shots(tmp_path, saved, trained):
    model, _ = trained
    record = synthetic_league(3, 40, seed=7)  # PLAYER_NAME 'Synthetic Player 001', ...
    profiles = model.player_profiles(record, seed=3, charts=6)
    plot_player_cards(profiles, tmp_path / "named.png", observed=record)
    plot_player_cards(profiles, tmp_path / "ids.png", observed=record.drop(columns="PLAYER_NAME"), max_players=1)
    plot_player_cards(profiles, tmp_path / "none.png", max_players=1)
    named, ids, none = saved
    groups = profiles.players["POSITION_GROUP"].tolist()
    assert [named[row * 3]["label"] for row in range(3)] == [[f"Synthetic Player 00{i + 1} ({groups[i]})"] for i in range(3)]
    assert ids[0]["label"] == [f"1 ({groups[0]})"] and none[0]["label"] == [f"1 ({groups[0]})"]
    record_panel, simulated_panel = named[0], named[1]  # his 40 recorded shots beside 40 simulated ones
    assert record_panel["dots"] == simulated_panel["dots"] == 40
    assert record_panel["title"].startswith("record: 40 shots, ") and simulated_panel["title"].startswith("simulated: 40 shots, ")
    assert none[0]["title"] == "no record given" and none[1]["dots"] == 40


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
        (lambda path: plot_real_vs_generated(hand_charts(), {"run": hand_charts()[:0]}, path),
         r"generated\['run'\] holds no charts"),
        (lambda path: plot_real_vs_generated(hand_charts(), {}, path), "generated is empty"),
        (lambda path: plot_real_vs_generated(hand_charts(), {"real": hand_charts()}, path), "an entry named 'real'"),
        (lambda path: plot_real_vs_generated(hand_charts(), hand_charts(), path, column_titles=["G"]),
         "column_titles has 1 entries for 3 columns"),
        (lambda path: plot_real_vs_generated(hand_charts(), hand_charts(), path, shots_per_chart=0),
         "shots_per_chart must be a positive integer"),
        (lambda path: plot_models_against_real({}, None, path), "models is empty"),
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
