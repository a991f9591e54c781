"""Building profiles: both posteriors and the game tables of the same records, packed into PlayerProfiles.

    profiles = build_profiles(model, observed, records, chart_posterior, skill, seed)   # ShotChartModel.player_profiles

The records hold every player of the input and, after them, one prior per position group and one for the
league (`prior_players`): profiles of no record, which answer for players a simulator asks about and the
profiles do not hold. The game tables (nba_ml.shots.player.game_fit) come from the same records; what they
could not fit (no team columns, no moment, no ACTION_TYPE) is said in one warning each.
"""
from __future__ import annotations

from typing import Optional

import numpy as np
import pandas as pd
import torch

from ...errors import InputError, counted
from ...memory import check_memory
from .game_fit import fit_game, warn_notes
from .make_model import SkillPosterior
from .profiles import PlayerProfiles
from .records import OFF_COURT
from .game_tables import CELLS, action_cell
from .make_model import ZONE_COUNT, half_court_zone
from .sampler import ChartSampler, area_fractions

PRIOR_PREFIX = "\x00prior:"  # the records' ids of the priors (no real id starts with a NUL)
LEAGUE = "league"


def prior_players(position_groups: tuple[str, ...]) -> pd.DataFrame:
    """PLAYER_ID, POSITION_GROUP of the priors: one per position group, then the league's."""
    return pd.DataFrame({"PLAYER_ID": [PRIOR_PREFIX + g for g in position_groups] + [PRIOR_PREFIX + LEAGUE],
                         "POSITION_GROUP": list(position_groups) + [None]})


def check_prior_ids(observed: pd.DataFrame, players: Optional[pd.DataFrame]) -> None:
    for frame, name in ((observed, "observed"), (players, "players")):
        if frame is not None and "PLAYER_ID" in frame:
            ids = frame["PLAYER_ID"]
            if ids.map(lambda i: isinstance(i, str) and i.startswith(PRIOR_PREFIX)).any():
                raise InputError(f"{name}: PLAYER_ID: an id starting with a NUL character is reserved")


def check_profile_memory(model, records, charts: int, particles: int) -> None:
    """Refuse (ResourceError), before the posterior runs, profiles whose building would not fit: the particles
    of every player (latents, weights, the generator's layers), each record's likelihood terms, the profiles
    and the sampling tables their first draw makes (a float64 cumulative and an int32 guide per record cell)."""
    players, n = len(records.table), max(int(particles), int(charts))
    gan = model.config.gan.model
    per_particle = gan.latent_dim + 4 * model.basis.size + 3 * gan.hidden_dim
    cells = records.table["SHOTS"].clip(upper=model.basis.grid ** 2).to_numpy()
    likelihood = 3 * n * (2 ** np.ceil(np.log2(np.maximum(cells, 16)))).sum()  # bucketed record cells, 3 tensors
    stored = players * charts * (model.basis.size + 3) + 4 * charts * cells.sum()  # in 4-byte units
    check_memory(4 * (players * n * per_particle + likelihood + stored),
                 f"profiles of {counted(players, 'player')} with {counted(charts, 'chart')} each ({n:,} particles) need",
                 "ask for fewer charts, or build the profiles of fewer players at a time", at_once=False)


def build_profiles(model, observed: pd.DataFrame, records, chart_posterior, skill: Optional[SkillPosterior],
                   seed: Optional[int]) -> PlayerProfiles:
    """PlayerProfiles from a PlayerPosterior (where) and a SkillPosterior (how well) of the same records (their
    last rows the priors of `prior_players`), with the game tables of `observed`."""
    R, C, K = chart_posterior.weights.shape
    priors = tuple(model.position_groups) + (None,)
    P = R - len(priors)
    lengths = [len(cells) for cells in chart_posterior.record_cells]  # his distinct record cells, in order
    offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    record_weights = torch.cat([w.float() for w in chart_posterior.record_weights], dim=1) if R else torch.zeros(C, 0)
    table = records.table.reset_index(drop=True)
    players = table.iloc[:P].copy()
    diagnostics = chart_posterior.diagnostics.drop(columns=["PLAYER_ID", "POSITION_GROUP", "SHOTS", "NOTE"], errors="ignore")
    for column in diagnostics:
        players[column] = diagnostics[column].to_numpy()[:P]
    if skill is not None:  # how sure the make surface is: the mean posterior sd of his zone offsets (logits)
        players["makes_sd"] = np.sqrt(np.diagonal(skill.cov, axis1=1, axis2=2)).mean(axis=1)[:P]
    weights = chart_posterior.weights.float()
    weights = weights / weights.sum(dim=2, keepdim=True)
    cells = torch.cat(list(chart_posterior.record_cells)) if R else torch.zeros(0, dtype=torch.long)
    charts = ChartSampler(model.basis.maps.float(), weights, chart_posterior.record_share.float(), cells, record_weights,
                          torch.from_numpy(offsets), float(chart_posterior.blur))
    labels = table["LABEL"].to_numpy(np.int64)
    grid = charts.maps.shape[-1]
    zone_mass = charts.masses(area_fractions(grid, half_court_zone, ZONE_COUNT))
    cell_mass = charts.masses(area_fractions(grid, lambda x, y, d: action_cell(half_court_zone(x, y, d), d * 0.1), CELLS),
                              mean=True)
    game, notes = fit_game(observed, records, zone_mass, cell_mass, skill, labels, tuple(model.position_groups))
    warn_notes(notes)
    dropped = dict(records.dropped)
    if game.settings["backcourt_with_id"]:  # the heaves are used: by the moment's share and make rate
        dropped[OFF_COURT] = max(0, dropped.get(OFF_COURT, 0) - game.settings["backcourt_with_id"])
    tensor = (lambda a: None if skill is None else torch.from_numpy(getattr(skill, a)))
    return PlayerProfiles(players.reset_index(drop=True), tuple(model.position_groups), charts.maps, weights,
                          chart_posterior.labels.to(torch.int64), charts.record_share, cells, record_weights,
                          charts.record_offsets, charts.blur, tensor("mean"), tensor("cov"), tensor("group"),
                          tensor("surface"), None if skill is None else model.makes.league_fg.double(),
                          records.target_season, seed, dropped, priors, game)
