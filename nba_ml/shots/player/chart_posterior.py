"""A given player's shot chart: the posterior over his chart given whatever shots are on record.

    posterior = player_posterior(model, observed)            # observed: a shots frame of one or many players
    posterior.weights                                          # (players, n_charts, K) mixture weights
    posterior.diagnostics                                      # one row per player: shots, stages, ESS, ...
    model.sample_player_shots(observed, 100, 200, seed=0)      # shots drawn from those charts

Model. The trained WGAN-GP of a basis model is a prior over charts: z ~ N(0, I)
and a position label give mixture weights w = G(z, label) over the K basis maps,
and the chart's shot density is d = w @ maps. A player's recorded shots are a
likelihood: each shot falls in a cell c with probability d[c] (uniform inside
the cell, which is the same for every chart and drops out). The posterior over
his chart is prior x likelihood^power, taken over the latent z (and the label,
when his position is unknown), with power = tau / (1 + n / saturation) for a
record of n shots. A power of 1 is Bayes' rule for independent draws from one
fixed chart; shots are not that (a game's shots share an opponent, a role, a
coach's plan, and a player's chart moves during a season), so a record of n
shots counts as n * power shots, at most tau * saturation. `DEFAULT_TAU` and
`DEFAULT_SATURATION` were chosen on the training season's own players, never on
a season a model is judged on (docs/benchmarks.md, "Shots for a given player").
The GAN's charts are calibrated (`calibrate_prior`) so that a player with no
shots gets his position's mean chart of the training season.

The record. The GAN's charts are mixtures of K habits; a player's own shots
also say what no mixture of them draws (his spots, his corner). So a posterior
chart is a draw of a Dirichlet-process posterior (Ferguson 1973) whose base is
the GAN chart c and whose data are his shots, tempered by the same power:
chart = (1 - v) c + v R, with v ~ Beta(power x n, kappa), R his shots' cells
weighted by a Dirichlet(power, ..., power) draw and blurred by RECORD_BLUR_FT.
With no shots v = 0 (the prior); a long record moves the charts towards his
own shots, as much as his n x power effective shots are worth against the
concentration kappa (DEFAULT_CONCENTRATION, chosen with tau on the training
season's players; inf = the GAN's charts alone). The spread of v and of the
Dirichlet weights keeps the charts as uncertain as a short record is. This is a
two-stage approximation: the posterior over c is taken from the likelihood
under c alone (below), and the record is mixed in afterwards.

Sampler. Sequential Monte Carlo with adaptive tempering (Del Moral, Doucet and
Jasra 2006), vectorised over players: N particles per player start as prior
draws; the likelihood is switched on in stages beta_0 = 0 < beta_1 < ... = power,
each step chosen so that the effective sample size (ESS) of the reweighted
particles is half of N; the particles are then resampled and moved by
preconditioned Crank-Nicolson Metropolis steps in z (z' = sqrt(1 - rho^2) z +
rho xi, which leaves the N(0, I) prior invariant, so only the likelihood ratio
decides acceptance). A short record needs one stage or none (0 shots: the
particles are the prior itself); a long one needs more stages, about log n,
but never collapses to a few particles as one-shot importance resampling does.
Diagnostics per player: the number of stages, the smallest ESS met (as a share
of N), the acceptance rate of the last moves, and how many of the returned charts
are distinct.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import numpy as np
import pandas as pd
import torch
from torch import Tensor

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ...errors import InputError, one_line
from ...errors import format_validation_error
from ..charts import blur_density, cell_of, cell_size
from .records import PlayerRecords, player_records
from .streams import PlayerStreams, Stream, player_key, root_entropy

DEFAULT_TAU = 0.25  # likelihood power for a short record; chosen on the training season's players (module docstring)
DEFAULT_SATURATION = 30.0  # shots at which the power has halved: a record counts as at most tau * this many shots
DEFAULT_CONCENTRATION = 10.0  # kappa: the GAN chart's weight against the record's (module docstring); inf = the GAN's alone
RECORD_BLUR_FT = 1.5  # std of the Gaussian blur of a player's recorded shots, in feet
DEFAULT_PARTICLES = 256  # particles per player (at least n_charts are used)
ESS_TARGET = 0.5  # each tempering stage keeps this share of N as effective sample size
MOVES_PER_STAGE = 4  # pCN Metropolis moves after each resampling
MAX_STAGES = 60  # a guard; thousands of shots need about 15
INITIAL_STEP = 0.5  # pCN step rho, adapted per player towards ACCEPT_RANGE
ACCEPT_RANGE = (0.2, 0.5)
GENERATOR_ROWS = 4096  # rows per generator call when evaluating particles (see _SMCState.evaluate)


@dataclass(frozen=True)
class PlayerPosterior:
    """Posterior charts of each player: `weights` (P, n_charts, K) on the model's basis, `labels`
    (P, n_charts) the position label of each chart, `player_ids` (P,), `diagnostics` one row per player,
    `dropped` observed rows not used, per reason.

    Chart i of player p is (1 - v) x (weights[p, i] @ maps) + v x his record, v = `record_share[p, i]`,
    the record being his shots' cells weighted by `record_weights[p][i]` (one weight per distinct cell of
    `record_cells[p]`) and blurred by `blur` cells (see the module docstring); `densities` composes them."""

    player_ids: list
    weights: Tensor
    labels: Tensor
    diagnostics: pd.DataFrame
    dropped: dict[str, int]
    record_share: Tensor  # (P, n_charts); 0 for a player without shots
    record_weights: tuple = ()  # per player: (n_charts, his distinct cells) Dirichlet weights
    record_cells: tuple = ()  # per player: (his distinct cells,) flat cell indices
    blur: float = 0.0  # std of the record's Gaussian blur, in cells

    def densities(self, maps: Tensor, player: int) -> Tensor:
        """(n_charts, S, S) attempt densities of the posterior charts of the `player`-th player."""
        grid = maps.shape[-1]
        gan = self.weights[player] @ maps.flatten(1).to(self.weights)
        gan = gan / gan.sum(dim=1, keepdim=True)
        share = self.record_share[player][:, None].to(gan)
        if not bool((share > 0).any()):
            return gan.reshape(-1, grid, grid)
        record = torch.zeros_like(gan).index_add_(1, self.record_cells[player], self.record_weights[player].to(gan))
        record = blur_density(record.reshape(-1, grid, grid), self.blur).flatten(1)
        return ((1 - share) * gan + share * record).reshape(-1, grid, grid)


def record_cells(records: PlayerRecords, grid: int) -> list[np.ndarray]:
    """Per player (rows of records.table): the flat cell index of each of his usable shots."""
    row, column = cell_of(records.x, records.y, grid)
    flat = row * grid + column
    bounds = np.searchsorted(records.player, np.arange(len(records.table) + 1))
    return [flat[bounds[i]:bounds[i + 1]] for i in range(len(records.table))]


def log_likelihoods(weights: Tensor, maps: Tensor, cells: Tensor, counts: Tensor) -> Tensor:
    """log P(shots | chart) up to a constant: weights (P, N, K), maps (K, cells), cells/counts (P, M) padded
    with count 0 -> (P, N)."""
    at_shots = maps[:, cells].permute(1, 0, 2)  # (P, K, M): each map's density at each player's cells
    density = torch.bmm(weights, at_shots)  # (P, N, M)
    return torch.bmm(density.clamp_(min=1e-30).log_(), counts[:, :, None].to(density))[..., 0]  # sum_c n_c log d[c]


def likelihood_power(shots: Tensor, tau: float = DEFAULT_TAU, saturation: float = DEFAULT_SATURATION) -> Tensor:
    """The power of the likelihood of a record of `shots` shots: tau / (1 + shots / saturation)."""
    return tau / (1 + shots.double() / saturation)  # shots * power -> tau * saturation effective shots


class PosteriorOptions(BaseModel):
    """How the posterior over a player's chart is taken (module docstring); checked once, where a caller passes them."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    tau: float = Field(DEFAULT_TAU, gt=0, le=1, description="Likelihood power of a short record.")
    saturation: float = Field(DEFAULT_SATURATION, gt=0, description="Shots at which the power has halved (inf: a constant power).")
    concentration: float = Field(DEFAULT_CONCENTRATION, gt=0, description="kappa: the GAN chart's weight against the record's (inf: the GAN's alone).")
    particles: int = Field(DEFAULT_PARTICLES, ge=1, le=1_000_000, description="Particles per player (at least n_charts are used).")


def posterior_options(**options) -> PosteriorOptions:
    """PosteriorOptions from keywords, or an InputError naming each bad one."""
    try:
        return PosteriorOptions(**options)
    except ValidationError as err:
        raise InputError(one_line(ValueError(format_validation_error(err).replace("invalid config:", "invalid posterior option:")))) from None


def player_posterior(model, observed, n_charts: int, *, players: Optional[pd.DataFrame] = None,
                     seed: Optional[int] = None, **options) -> PlayerPosterior:
    """n_charts posterior charts per player of `observed` (and `players`) under `model` (a basis ShotChartModel).

    `observed` is a shots frame (nba_ml.shots.player.records) or PlayerRecords already made from one; `options`
    the PosteriorOptions (tau, saturation, concentration, particles). Each player's draws come from his own
    random stream (seed, his id): the same seed gives him the same charts whoever else is in the call."""
    if model.basis is None:
        raise InputError("posterior sampling needs a model on a chart basis (basis: K > 0): the likelihood of a "
                         "player's shots is taken under each chart's mixture of the basis maps; this model "
                         "generates cells (basis: 0); retrain it with basis: 16")
    if isinstance(n_charts, (bool, np.bool_)) or not isinstance(n_charts, (int, np.integer)) or n_charts < 1:
        raise InputError(f"n_charts must be a positive integer, got {n_charts!r}")
    settings = posterior_options(**options)
    tau, saturation, concentration, particles = settings.tau, settings.saturation, settings.concentration, settings.particles
    records = observed if isinstance(observed, PlayerRecords) else player_records(observed, model.position_groups, players=players)
    table = records.table
    if table.empty:
        raise InputError(f"observed: no player to sample for (rows dropped: {records.dropped})")
    cells = record_cells(records, model.basis.grid)
    n = max(int(particles), int(n_charts))
    root, keys = root_entropy(seed), [player_key(player_id) for player_id in records.player_ids]
    posterior_streams = PlayerStreams(root, Stream.POSTERIOR)
    rngs = [posterior_streams.torch_generator(key) for key in keys]  # one torch generator per player

    labels = _particle_labels(model, table["LABEL"].to_numpy(), n, rngs)  # (P, N)
    distinct = [np.unique(c, return_counts=True) for c in cells]  # per player: his distinct cells, his shots in each
    state = _SMCState.start(model, labels, distinct, rngs)
    power = likelihood_power(torch.tensor(table["SHOTS"].to_numpy()), tau, saturation)
    diagnostics = state.run(power)

    pick = torch.stack([torch.randperm(n, generator=g)[:n_charts] for g in rngs])  # (P, n_charts)
    weights = torch.gather(state.weights, 1, pick[..., None].expand(-1, -1, state.weights.shape[-1]))
    share, record_weights = _record_parts(distinct, power, concentration, n_charts, PlayerStreams(root, Stream.RECORD), keys)
    out = table[["PLAYER_ID", "POSITION_GROUP", "SHOTS"]].copy()
    for key, values in diagnostics.items():
        out[key] = values
    out["distinct_charts"] = [len(torch.unique(w, dim=0)) for w in weights]
    out["record_share"] = share.mean(dim=1).tolist()
    out["NOTE"] = table["NOTE"].to_numpy()
    width, height = cell_size(model.basis.grid)
    return PlayerPosterior(records.player_ids, weights, torch.gather(labels, 1, pick), out, dict(records.dropped), share,
                           record_weights, tuple(torch.from_numpy(u) for u, _ in distinct), RECORD_BLUR_FT * 20 / (width + height))


def _record_parts(distinct: list[tuple[np.ndarray, np.ndarray]], power: Tensor, concentration: float, n_charts: int,
                  streams: PlayerStreams, keys: list[int]) -> tuple[Tensor, tuple]:
    """Per chart, the record's share v ~ Beta(power x n, kappa) and the weights of his n shots
    ~ Dirichlet(power, ..., power): a draw of the tempered Dirichlet-process posterior (module docstring).
    The weights are drawn per distinct cell, Dirichlet(power x his shots there, ...): the same distribution
    of the cells' weights (the Dirichlet's aggregation property) with fewer draws."""
    share = torch.zeros(len(distinct), n_charts, dtype=torch.float64)
    record_weights = []
    for p, (_, counts) in enumerate(distinct):
        draws = streams.of(keys[p])
        n, pw = int(counts.sum()), float(power[p])
        if n and np.isfinite(concentration):
            share[p] = torch.from_numpy(draws.beta(pw * n, concentration, size=n_charts))
            record_weights.append(torch.from_numpy(_dirichlet(draws, pw * counts, n_charts)))
        else:
            record_weights.append(torch.zeros(n_charts, len(counts), dtype=torch.float64))
    return share, tuple(record_weights)


def _dirichlet(rng: np.random.Generator, alpha: np.ndarray, size: int) -> np.ndarray:
    """(size, len(alpha)) Dirichlet draws as normalised Gamma draws (numpy's own Dirichlet falls back to a slow
    stick-breaking loop for small alphas, which a tempered record's are)."""
    gamma = rng.standard_gamma(np.broadcast_to(alpha, (size, len(alpha))))
    total = gamma.sum(axis=1, keepdims=True)
    if not (total > 0).all():  # every gamma underflowed (tiny alphas): the weight goes to one cell, as a Dirichlet's limit
        empty = np.flatnonzero(total[:, 0] <= 0)
        gamma[empty, rng.choice(len(alpha), size=len(empty), p=alpha / alpha.sum())] = 1.0
        total = gamma.sum(axis=1, keepdims=True)
    return gamma / total


def _particle_labels(model, labels: np.ndarray, n: int, rngs: list[torch.Generator]) -> Tensor:
    """(P, N) label of each particle: the player's, or drawn from the training label frequencies when unknown."""
    freqs = torch.tensor(model.label_freqs)
    mixture = torch.stack([torch.multinomial(freqs, n, replacement=True, generator=g) for g in rngs]) \
        if len(rngs) else torch.zeros(0, n, dtype=torch.long)
    given = torch.tensor(np.asarray(labels), dtype=torch.long)[:, None].expand(-1, n)
    return torch.where(given >= 0, given, mixture)


@dataclass
class _SMCState:
    """Particles of every player: latents z (P, N, L), their weights on the basis and log-likelihoods."""

    model: object
    labels: Tensor
    cells: list  # per player: (M_p,) his distinct record cells
    counts: list  # per player: (M_p,) his shots in each
    rngs: list  # one torch.Generator per player
    z: Tensor = None
    weights: Tensor = None
    loglik: Tensor = None

    @classmethod
    def start(cls, model, labels: Tensor, distinct: list[tuple[np.ndarray, np.ndarray]], rngs: list) -> "_SMCState":
        padded_cells, padded_counts = [], []
        for unique, count in distinct:  # each padded to a length of its own (a power of two): see evaluate
            size = _bucket(len(unique))
            padded_cells.append(torch.from_numpy(np.pad(unique, (0, size - len(unique)))))
            padded_counts.append(torch.from_numpy(np.pad(count, (0, size - len(unique)))).float())
        players, n = labels.shape
        state = cls(model, labels, padded_cells, padded_counts, rngs)
        z = torch.stack([torch.randn(n, model.generator.latent_dim, generator=g) for g in rngs]) if players \
            else torch.zeros(0, n, model.generator.latent_dim)
        state.z, state.weights, state.loglik = z, *state.evaluate(z, torch.arange(players))
        return state

    @torch.no_grad()
    def evaluate(self, z: Tensor, players: Tensor) -> tuple[Tensor, Tensor]:
        """Mixture weights (p, N, K) and log-likelihoods (p, N) of latents z (p, N, L) of `players`."""
        p, n, latent = z.shape
        flat, labels = z.reshape(p * n, latent), self.labels[players].reshape(-1)
        # in blocks of rows, whose activations stay in the CPU's cache: 2-2.5x faster than one pass of 137,472
        # rows here, and the same numbers (each row's sums do not depend on the rows beside it)
        encoded = torch.cat([self.model.generator(flat[i:i + GENERATOR_ROWS], labels[i:i + GENERATOR_ROWS])
                             for i in range(0, max(p * n, 1), GENERATOR_ROWS)])
        weights = self.model.mixture_weights(encoded, labels)
        weights = (weights / weights.sum(dim=1, keepdim=True)).reshape(p, n, -1)
        maps = self.model.basis.maps.flatten(1)
        loglik = torch.zeros(p, n, dtype=weights.dtype)
        # players are batched by the length their record is padded to, which depends on his record alone: a
        # player's sums run over the same terms, in the same order, whoever else is in the call
        sizes = np.array([len(self.cells[q]) for q in players.tolist()])
        block = max(1, GENERATOR_ROWS // max(n, 1))  # players at a time: their densities stay in cache too
        for size in np.unique(sizes):
            same = np.flatnonzero(sizes == size)
            for start in range(0, len(same), block):
                at = torch.from_numpy(same[start:start + block])
                who = players[at].tolist()
                loglik[at] = log_likelihoods(weights[at], maps, torch.stack([self.cells[q] for q in who]),
                                             torch.stack([self.counts[q] for q in who]))
        return weights, loglik

    def run(self, tau: Tensor) -> dict[str, list]:
        """Temper from beta = 0 to each player's power tau (P,); returns per-player diagnostics."""
        players, n = self.labels.shape
        beta = torch.zeros(players, dtype=torch.float64)
        stages = torch.zeros(players, dtype=torch.long)
        min_ess = torch.ones(players, dtype=torch.float64)
        step = torch.full((players,), INITIAL_STEP)
        accept = torch.full((players,), float("nan"))
        has_shots = torch.tensor([bool(c.sum() > 0) for c in self.counts], dtype=torch.bool)
        for _ in range(MAX_STAGES):
            active = torch.nonzero(has_shots & (beta < tau - 1e-12)).flatten()
            if len(active) == 0:
                break
            loglik = self.loglik[active].double()
            delta = _next_increment(loglik, tau[active] - beta[active])
            log_w = delta[:, None] * loglik
            ess = _ess(log_w)
            beta[active] += delta
            stages[active] += 1
            min_ess[active] = torch.minimum(min_ess[active], ess / n)
            self._resample(active, log_w)
            accept[active], step[active] = self._move(active, beta[active], step[active])
        return {"stages": stages.tolist(), "min_ess_share": min_ess.tolist(), "accept_rate": accept.tolist(),
                "beta": beta.tolist()}

    def _resample(self, players: Tensor, log_w: Tensor) -> None:
        """Systematic resampling of the particles of `players` by log weights (p, N)."""
        p, n = log_w.shape
        cumulative = torch.softmax(log_w, dim=1).cumsum(dim=1)
        cumulative[:, -1] = 1.0
        points = (self._rand(players, 1) + torch.arange(n)) / n
        index = torch.searchsorted(cumulative, points).clamp(max=n - 1)
        for name in ("z", "weights", "loglik", "labels"):
            tensor = getattr(self, name)
            picked = tensor[players]
            gather_index = index.reshape(p, n, *([1] * (picked.dim() - 2))).expand_as(picked)
            tensor[players] = torch.gather(picked, 1, gather_index)

    def _rand(self, players: Tensor, size: int) -> Tensor:
        """(len(players), size) float64 uniforms, each row from its player's own stream."""
        return torch.stack([torch.rand(size, generator=self.rngs[p], dtype=torch.float64) for p in players.tolist()])

    def _move(self, players: Tensor, beta: Tensor, step: Tensor) -> tuple[Tensor, Tensor]:
        """MOVES_PER_STAGE pCN Metropolis moves of `players`' particles at their temperatures beta;
        returns (acceptance rate of the last move, adapted step) per player."""
        rate = torch.zeros(len(players))
        for _ in range(MOVES_PER_STAGE):
            z = self.z[players]
            rho = step[:, None, None]
            proposal = (1 - rho ** 2).sqrt() * z + rho * torch.stack([torch.randn(z.shape[1:], generator=self.rngs[p])
                                                                      for p in players.tolist()])
            weights, loglik = self.evaluate(proposal, players)
            log_ratio = beta[:, None] * (loglik - self.loglik[players]).double()
            accepted = self._rand(players, log_ratio.shape[1]).log() < log_ratio
            self.z[players] = torch.where(accepted[..., None], proposal, z)
            self.weights[players] = torch.where(accepted[..., None], weights, self.weights[players])
            self.loglik[players] = torch.where(accepted, loglik, self.loglik[players])
            rate = accepted.double().mean(dim=1).float()
            low, high = ACCEPT_RANGE
            step = torch.where(rate < low, step * 0.6, torch.where(rate > high, (step * 1.5).clamp(max=1.0), step))
        return rate, step


def _bucket(cells: int) -> int:
    """The padded length of a record of `cells` distinct cells: the next power of two, at least 16."""
    return max(16, 1 << max(0, cells - 1).bit_length())


def _ess(log_w: Tensor) -> Tensor:
    """Effective sample size (p,) of log weights (p, N): 1 / sum of squared normalised weights."""
    return 1.0 / torch.softmax(log_w, dim=1).square().sum(dim=1)


def _next_increment(loglik: Tensor, room: Tensor, iterations: int = 40) -> Tensor:
    """Per player, the temperature increment (at most `room`) whose reweighting keeps ESS = ESS_TARGET * N
    (bisection: ESS falls as the increment grows)."""
    n = loglik.shape[1]
    target = ESS_TARGET * n
    whole = _ess(room[:, None] * loglik) >= target
    low, high = torch.zeros_like(room), room.clone()
    for _ in range(iterations):
        middle = (low + high) / 2
        ok = _ess(middle[:, None] * loglik) >= target
        low, high = torch.where(ok, middle, low), torch.where(ok, high, middle)
    return torch.where(whole, room, low.clamp(min=room * 1e-6))
