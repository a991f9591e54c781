"""Networks (shapes, no BatchNorm in critics) and the 2-D benchmark data."""
import pytest
import torch
from torch import nn

from nba_ml.gan import build_critic, build_generator, make_points, validate_config


@pytest.mark.parametrize("model,shape", [
    ({"kind": "mlp", "data_shape": [5], "hidden_dim": 8, "depth": 2}, (5,)),
    ({"kind": "conv", "data_shape": [2, 16, 16], "base_channels": 4, "critic_norm": "layer"}, (2, 16, 16)),
])
def test_shapes_and_critic_has_no_batchnorm(model, shape):
    cfg = validate_config({"model": {**model, "latent_dim": 3}})
    generator, critic = build_generator(cfg), build_critic(cfg)
    fake = generator(torch.randn(4, 3))
    assert fake.shape == (4, *shape)
    assert critic(fake).shape == (4,)
    assert not any(isinstance(m, nn.modules.batchnorm._BatchNorm) for m in critic.modules())


def test_network_table_has_one_entry_per_model_kind():
    from typing import get_args

    from nba_ml.gan.config import NetworkKind
    from nba_ml.gan.networks import NETWORKS

    assert set(NETWORKS) == set(get_args(NetworkKind))
    assert [kind for kind, network in NETWORKS.items() if network.flat] == ["mlp"]


def test_build_needs_a_data_shape():
    with pytest.raises(ValueError, match="data_shape is not set"):
        build_critic(validate_config({}))


def test_conditional_critic_score_depends_on_the_label():
    cfg = validate_config({"model": {"data_shape": [2], "num_classes": 2, "hidden_dim": 8, "depth": 1}})
    critic = build_critic(cfg)
    x = torch.randn(3, 2)
    assert not torch.allclose(critic(x, torch.zeros(3, dtype=torch.long)), critic(x, torch.ones(3, dtype=torch.long)))


@pytest.mark.parametrize("name,n_modes", [("8gaussians", 8), ("25gaussians", 25), ("swissroll", None)])
def test_points_are_seeded_and_have_their_modes(name, n_modes):
    a, b = make_points(name, 500, seed=1), make_points(name, 500, seed=1)
    assert a.samples.shape == (500, 2) and a.samples.dtype == torch.float32
    assert torch.equal(a.samples, b.samples)
    assert not torch.equal(a.samples, make_points(name, 500, seed=2).samples)
    assert (a.modes is None) == (n_modes is None)
    if n_modes:
        assert a.modes.shape == (n_modes, 2)
        nearest = torch.cdist(a.samples, a.modes).min(dim=1).values
        assert (nearest <= 5 * a.mode_std).all()  # every sample belongs to a mode


def test_25gaussians_grid_matches_the_paper():
    data = make_points("25gaussians", 10, seed=0)
    assert data.modes.min().item() == pytest.approx(-4 / 2.828)
    assert data.mode_std == pytest.approx(0.05 / 2.828)


def test_unknown_point_dataset():
    with pytest.raises(ValueError, match="unknown point dataset 'moons'; expected one of 8gaussians, 25gaussians, swissroll"):
        make_points("moons", 10)


def test_point_set_table_has_one_entry_per_benchmark():
    from typing import get_args

    from nba_ml.gan.data import POINT_SETS, PointDataset

    assert list(POINT_SETS) == list(get_args(PointDataset))


def test_mlp_critic_normalises_every_hidden_layer():
    cfg = validate_config({"model": {"data_shape": [2], "hidden_dim": 8, "depth": 3, "critic_norm": "layer"}})
    critic = build_critic(cfg)
    assert sum(isinstance(m, nn.LayerNorm) for m in critic.modules()) == 3
    assert sum(isinstance(m, nn.Linear) for m in critic.modules()) == 4  # 3 hidden + head


def test_density_output_is_a_distribution_encoded_like_the_charts():
    from nba_ml.shots.charts import decode_density, encode_density

    cfg = validate_config({"model": {"kind": "conv", "data_shape": [2, 8, 8], "base_channels": 4, "output": "density"}})
    grids = build_generator(cfg)(torch.randn(3, cfg.model.latent_dim))
    p = ((grids[:, 0] + 1) / 2) ** 2
    assert torch.allclose(p.sum(dim=(1, 2)), torch.ones(3), atol=1e-5)
    assert torch.allclose(encode_density(decode_density(grids.detach())), grids[:, 0].detach(), atol=1e-5)
    assert grids[:, 1].abs().max() <= 1


def test_mlp_density_output_is_one_distribution_over_all_features():
    cfg = validate_config({"model": {"kind": "mlp", "data_shape": [16], "hidden_dim": 8, "depth": 1, "output": "density"}})
    out = build_generator(cfg)(torch.randn(4, cfg.model.latent_dim))
    assert torch.allclose((((out + 1) / 2) ** 2).sum(dim=1), torch.ones(4), atol=1e-5)


def test_density_output_gradient_is_finite_where_probability_underflows():
    from nba_ml.gan.networks import sqrt_softmax

    logits = torch.tensor([[0.0, -200.0, 5.0]], requires_grad=True)  # softmax of -200 underflows to 0 in float32
    out = sqrt_softmax(logits)
    out.sum().backward()
    assert torch.isfinite(logits.grad).all()
    assert out[0, 1].item() == pytest.approx(-1.0)
