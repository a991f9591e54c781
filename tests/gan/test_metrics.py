"""nba_ml.gan.metrics on hand-built inputs with known answers."""
import math

import pytest
import torch
from torch import nn

from nba_ml.gan import metrics


def test_weight_stats_over_all_parameters():
    net = nn.Linear(2, 1)
    with torch.no_grad():
        net.weight.copy_(torch.tensor([[1.0, 3.0]]))
        net.bias.fill_(2.0)
    stats = metrics.weight_stats(net, "critic")
    assert stats == {"weights/critic_mean": pytest.approx(2.0), "weights/critic_std": pytest.approx(1.0)}


def test_clip_pct_counts_weights_at_the_bound():
    net = nn.Linear(3, 1)
    with torch.no_grad():
        net.weight.copy_(torch.tensor([[0.01, -0.01, 0.005]]))
        net.bias.fill_(0.0)
    assert metrics.clip_pct(net, 0.01) == pytest.approx(50.0)


def test_loss_variance_is_population_variance():
    assert metrics.loss_variance([1.0, 3.0]) == pytest.approx(1.0)
    assert metrics.loss_variance([5.0]) == 0.0


def test_dg_ratio():
    assert metrics.dg_ratio(-2.0, 4.0) == pytest.approx(0.5)
    assert metrics.dg_ratio(1.0, 0.0) == math.inf


def test_pixvar_is_mean_per_feature_variance():
    samples = torch.tensor([[0.0, 0.0], [2.0, 4.0]])  # variances 1 and 4
    assert metrics.pixvar(samples) == pytest.approx(2.5)
    assert metrics.pixvar(torch.ones(5, 3, 2, 2)) == 0.0


def test_mode_coverage_counts_modes_and_high_quality_share():
    modes = torch.tensor([[0.0, 0.0], [10.0, 0.0], [0.0, 10.0]])
    samples = torch.tensor([[0.0, 0.1], [10.0, 0.0], [10.2, 0.0], [5.0, 5.0]])
    result = metrics.mode_coverage(samples, modes, mode_std=0.1)
    # within 3 std = 0.3: the first three are high quality and hit two modes; (5, 5) is far from all
    assert result == {"quality/modes_covered": 2.0, "quality/modes_total": 3.0, "quality/hq_pct": pytest.approx(75.0)}


def test_real_pixvar_of_a_tensor_and_of_a_labelled_dataset():
    from torch.utils.data import TensorDataset

    samples = torch.tensor([[0.0, 1.0], [2.0, 1.0]])  # per-feature variances 1 and 0
    assert metrics.real_pixvar(samples) == pytest.approx(0.5)
    assert metrics.real_pixvar(TensorDataset(samples, torch.tensor([0, 1]))) == pytest.approx(0.5)
