"""Critic and generator pairs: an MLP for points/tables, a DCGAN-style pair for grids.

Networks only define forward() (and sample() on the generator); training lives
in nba_ml.gan.training. The critics have no BatchNorm: the gradient penalty is
a per-sample quantity and BatchNorm couples the samples of a batch.
A condition (integer labels, (B,)) is optional: the generator concatenates a
label embedding to z, the critic adds a projection term <embed(y), h(x)>
(Miyato & Koyama 2018).
"""
from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from typing import Callable, Iterator, Optional

import torch
from torch import Tensor, nn
from torch.overrides import TorchFunctionMode

from .config import GANConfig, ModelConfig


def _mlp(sizes: list[int], *, norm: str = "none", act_last: bool = False) -> nn.Sequential:
    """Linear layers, each followed by [LayerNorm] and ReLU except the last (unless act_last)."""
    layers: list[nn.Module] = []
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(nn.Linear(n_in, n_out))
        if act_last or i < len(sizes) - 2:
            if norm == "layer":
                layers.append(nn.LayerNorm(n_out))
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)


class MLPGenerator(nn.Module):
    """z (B, latent_dim) [+ label] -> sample (B, data_dim)."""

    def __init__(self, latent_dim: int, data_dim: int, hidden_dim: int, depth: int, num_classes: int = 0,
                 output: str = "linear"):
        super().__init__()
        self.latent_dim = latent_dim
        self.embed = nn.Embedding(num_classes, latent_dim) if num_classes else None
        in_dim = latent_dim * (2 if num_classes else 1)
        self.net = _mlp([in_dim] + [hidden_dim] * depth + [data_dim])
        self.output = sqrt_softmax if output == "density" else nn.Identity()

    def forward(self, z: Tensor, condition: Optional[Tensor] = None) -> Tensor:
        if self.embed is not None:
            z = torch.cat([z, self.embed(condition)], dim=1)
        return self.output(self.net(z))

    @torch.no_grad()
    def sample(self, n: int, seed: Optional[int] = None, condition: Optional[Tensor] = None) -> Tensor:
        return _sample(self, n, seed, condition)


class MLPCritic(nn.Module):
    """sample (B, data_dim) [+ label] -> score (B,)."""

    def __init__(self, data_dim: int, hidden_dim: int, depth: int, norm: str = "none", num_classes: int = 0):
        super().__init__()
        self.features = _mlp([data_dim] + [hidden_dim] * depth, norm=norm, act_last=True)
        self.head = nn.Linear(hidden_dim, 1)
        self.embed = nn.Embedding(num_classes, hidden_dim) if num_classes else None

    def forward(self, x: Tensor, condition: Optional[Tensor] = None) -> Tensor:
        return _score(self, self.features(x), condition)


def sqrt_softmax(logits: Tensor) -> Tensor:
    """Logits (B, ...) -> a probability p over all non-batch dims, stored as 2*sqrt(p) - 1.

    Matches nba_ml.shots.charts.encode_density: a generated chart is always a
    proper distribution, and empty cells reach -1 (p -> 0) without the
    generator having to hit -1 exactly in thousands of cells.
    """
    # sqrt(p) as exp(log_softmax / 2): sqrt(softmax(.)) has an infinite gradient
    # where p underflows to 0, which turned a training run into NaN at step 815.
    root_p = torch.exp(0.5 * torch.log_softmax(logits.reshape(logits.shape[0], -1), dim=1))
    return 2 * root_p.reshape_as(logits) - 1


def density_output(grids: Tensor) -> Tensor:
    """Grids (B, C, S, S): channel 0 -> sqrt_softmax over the grid; other channels -> tanh."""
    return torch.cat([sqrt_softmax(grids[:, :1]), torch.tanh(grids[:, 1:])], dim=1)


class ConvGenerator(nn.Module):
    """z (B, latent_dim) [+ label] -> grid (B, C, S, S), S a power of two >= 8; DCGAN layout."""

    def __init__(self, latent_dim: int, data_shape: tuple[int, int, int], base_channels: int, num_classes: int = 0,
                 output: str = "linear"):
        super().__init__()
        channels, side, _ = data_shape
        n_up = side.bit_length() - 3  # 4x4 -> side in stride-2 steps
        widths = [base_channels * 2 ** (n_up - i) for i in range(n_up + 1)]  # widest at 4x4
        self.latent_dim = latent_dim
        self.embed = nn.Embedding(num_classes, latent_dim) if num_classes else None
        in_dim = latent_dim * (2 if num_classes else 1)
        self.project = nn.Sequential(nn.Linear(in_dim, widths[0] * 16), nn.BatchNorm1d(widths[0] * 16), nn.ReLU())
        blocks: list[nn.Module] = [nn.Unflatten(1, (widths[0], 4, 4))]
        for w_in, w_out in zip(widths[:-1], widths[1:]):
            blocks += [nn.ConvTranspose2d(w_in, w_out, 4, stride=2, padding=1), nn.BatchNorm2d(w_out), nn.ReLU()]
        blocks.append(nn.Conv2d(widths[-1], channels, 3, padding=1))
        self.net = nn.Sequential(*blocks)
        self.output = density_output if output == "density" else nn.Identity()

    def forward(self, z: Tensor, condition: Optional[Tensor] = None) -> Tensor:
        if self.embed is not None:
            z = torch.cat([z, self.embed(condition)], dim=1)
        return self.output(self.net(self.project(z)))

    @torch.no_grad()
    def sample(self, n: int, seed: Optional[int] = None, condition: Optional[Tensor] = None) -> Tensor:
        return _sample(self, n, seed, condition)


class ConvCritic(nn.Module):
    """grid (B, C, S, S) [+ label] -> score (B,); strided convs, LeakyReLU, optional per-sample LayerNorm."""

    def __init__(self, data_shape: tuple[int, int, int], base_channels: int, norm: str = "none", num_classes: int = 0):
        super().__init__()
        channels, side, _ = data_shape
        n_down = side.bit_length() - 3  # side -> 4x4
        widths = [base_channels * 2**i for i in range(n_down + 1)]
        layers: list[nn.Module] = [nn.Conv2d(channels, widths[0], 3, padding=1), nn.LeakyReLU(0.2)]
        for w_in, w_out in zip(widths[:-1], widths[1:]):
            layers.append(nn.Conv2d(w_in, w_out, 4, stride=2, padding=1))
            if norm == "layer":
                layers.append(nn.GroupNorm(1, w_out))  # LayerNorm over (C, H, W) of each sample
            layers.append(nn.LeakyReLU(0.2))
        layers.append(nn.Flatten())
        self.features = nn.Sequential(*layers)
        self.head = nn.Linear(widths[-1] * 16, 1)
        self.embed = nn.Embedding(num_classes, widths[-1] * 16) if num_classes else None

    def forward(self, x: Tensor, condition: Optional[Tensor] = None) -> Tensor:
        return _score(self, self.features(x), condition)


def _score(critic: nn.Module, features: Tensor, condition: Optional[Tensor]) -> Tensor:
    """Linear head plus, when conditional, the projection term <embed(y), features>."""
    score = critic.head(features).squeeze(1)
    if critic.embed is not None:
        score = score + (critic.embed(condition) * features).sum(dim=1)
    return score


def _sample(generator: nn.Module, n: int, seed: Optional[int], condition: Optional[Tensor]) -> Tensor:
    """n samples in eval mode; a seed makes them reproducible without touching the global RNG."""
    generator.eval()
    device = next(generator.parameters()).device
    rng = torch.Generator(device=device).manual_seed(seed) if seed is not None else None
    z = torch.randn(n, generator.latent_dim, generator=rng, device=device)
    return generator(z, condition)


@dataclass(frozen=True)
class Network:
    """Everything one model.kind is made of; the builders below look it up once and never ask for the name."""

    generator: Callable[[ModelConfig], nn.Module]  # the generator for a model section with data_shape set
    critic: Callable[[ModelConfig], nn.Module]
    flat: bool  # samples are vectors (N, features); else grids (N, channels, height, width)
    layout: str  # the sample layout it needs, for error messages


# model.kind -> Network.
NETWORKS: dict[str, Network] = {
    "mlp": Network(
        generator=lambda m: MLPGenerator(m.latent_dim, m.data_shape[0], m.hidden_dim, m.depth, m.num_classes, m.output),
        critic=lambda m: MLPCritic(m.data_shape[0], m.hidden_dim, m.depth, m.critic_norm, m.num_classes),
        flat=True, layout="(N, features)"),
    "conv": Network(
        generator=lambda m: ConvGenerator(m.latent_dim, m.data_shape, m.base_channels, m.num_classes, m.output),
        critic=lambda m: ConvCritic(m.data_shape, m.base_channels, m.critic_norm, m.num_classes),
        flat=False, layout="(N, channels, height, width)"),
}


def build_generator(cfg: GANConfig) -> nn.Module:
    """The generator for cfg.model (model.data_shape must be set)."""
    return NETWORKS[cfg.model.kind].generator(_resolved(cfg.model))


def build_critic(cfg: GANConfig) -> nn.Module:
    """The critic for cfg.model (model.data_shape must be set)."""
    return NETWORKS[cfg.model.kind].critic(_resolved(cfg.model))


@contextmanager
def shapes_only() -> Iterator[None]:
    """Networks built inside have meta tensors (shapes, no memory) and skip their initialisers.

    Initialising a meta tensor is no work, but torch's meta normal_ (nn.Embedding's init) imports
    torch._dynamo on first use: about 1.7 s of every command that loads a conditioned generator."""
    with torch.device("meta"), _NoInit():
        yield


class _NoInit(TorchFunctionMode):
    """torch.nn.init functions return their tensor untouched; everything else runs as usual."""

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        if getattr(func, "__module__", None) == "torch.nn.init":
            return args[0] if args else kwargs["tensor"]
        return func(*args, **kwargs)


def _resolved(model: ModelConfig) -> ModelConfig:
    if model.data_shape is None:
        raise ValueError("model.data_shape is not set: pass data to train(), or set it in the config")
    return model
