"""nba_ml.gan.training on tiny CPU problems: steps move the right weights, runs are reproducible."""
from dataclasses import replace

import pytest
import torch
from torch.utils.data import TensorDataset

from nba_ml.gan import TrainingDiverged, make_points, train, validate_config
from nba_ml.gan import losses, training
from nba_ml.gan.networks import build_critic, build_generator

TINY = {"model": {"latent_dim": 2, "hidden_dim": 16, "depth": 2}, "train": {"steps": 4, "batch_size": 16, "log_every": 2}}


def tiny(**sections):
    cfg = {k: dict(v) for k, v in TINY.items()}
    for section, values in sections.items():
        cfg[section] = {**cfg.get(section, {}), **values}
    return cfg


@pytest.fixture(scope="module")
def points():
    return make_points("8gaussians", 256, seed=0).samples


def make_state(cfg_dict, data_shape=(2,)):
    cfg = validate_config(cfg_dict).with_data_shape(data_shape)
    torch.manual_seed(0)
    generator, critic = build_generator(cfg), build_critic(cfg)
    opt_c, opt_g = training.make_optimizers(cfg, critic, generator)
    return training.TrainState(cfg, generator, critic, opt_g, opt_c, torch.device("cpu"))


def snapshot(module):
    return [p.detach().clone() for p in module.parameters()]


def changed(before, module):
    return any(not torch.equal(b, p) for b, p in zip(before, module.parameters()))


@pytest.mark.parametrize("kind", ["wgan-gp", "wgan-clip", "gan"])
def test_critic_step_moves_only_the_critic(kind, points):
    state = make_state(tiny(loss={"kind": kind}))
    critic_before, generator_before = snapshot(state.critic), snapshot(state.generator)
    stats = training.critic_step(state, points[:16], None)
    assert changed(critic_before, state.critic)
    assert not changed(generator_before, state.generator)
    assert {"loss/critic", "critic/real", "critic/fake"} <= stats.keys()
    assert ("loss/gp" in stats) == (kind == "wgan-gp")


@pytest.mark.parametrize("kind", ["wgan-gp", "wgan-clip", "gan"])
def test_generator_step_moves_only_the_generator(kind):
    state = make_state(tiny(loss={"kind": kind}))
    critic_before, generator_before = snapshot(state.critic), snapshot(state.generator)
    training.generator_step(state, None, 16)
    assert changed(generator_before, state.generator)
    assert not changed(critic_before, state.critic)
    assert all(p.requires_grad for p in state.critic.parameters())  # unfrozen again


def hand_built_state(**loss):
    """A critic f(x) = 3 x1 + 4 x2 + 70 (identity layer, bias 10 keeping the ReLU open on the data, head (3, 4)):
    its gradient is (3, 4) everywhere there, norm 5; a generator whose every output is (1, 2)."""
    state = make_state({"model": {"latent_dim": 2, "hidden_dim": 2, "depth": 1}, "loss": loss})
    with torch.no_grad():
        for p in (*state.critic.parameters(), *state.generator.parameters()):
            p.zero_()
        state.critic.features[0].weight.copy_(torch.eye(2))
        state.critic.features[0].bias.fill_(10.0)
        state.critic.head.weight.copy_(torch.tensor([[3.0, 4.0]]))
        state.generator.net[-1].bias.copy_(torch.tensor([1.0, 2.0]))
    return state


@pytest.mark.parametrize("loss, penalty_weight", [({"gp_weight": 10.0}, 10.0), ({"gp_weight": 2.0, "gp_every": 3}, 6.0)])
def test_wgan_gp_critic_loss_on_a_hand_built_critic(loss, penalty_weight):
    # real (1, 0), (0, 1) score 73 and 74; every fake (1, 2) scores 81; the penalty is (5 - 1)^2 = 16,
    # weighted by gp_weight, times gp_every on a lazy step (the first critic step is one).
    stats = training.critic_step(hand_built_state(**loss), torch.tensor([[1.0, 0.0], [0.0, 1.0]]), None)
    assert {k: v.item() for k, v in stats.items()} == {
        "critic/real": pytest.approx(73.5), "critic/fake": pytest.approx(81.0), "loss/gp": pytest.approx(16.0),
        "grad_norm/mean": pytest.approx(5.0), "grad_norm/std": pytest.approx(0.0, abs=1e-6),
        "loss/critic": pytest.approx(81.0 - 73.5 + penalty_weight * 16.0)}


def test_unpenalised_objectives_score_the_hand_built_critic_without_a_penalty():
    real = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    clipped = training.critic_step(hand_built_state(kind="wgan-clip"), real, None)
    assert clipped["loss/critic"].item() == pytest.approx(81.0 - 73.5) and "loss/gp" not in clipped
    standard = training.critic_step(hand_built_state(kind="gan"), real, None)
    # softplus(-73), softplus(-74) and softplus(81): -log sigmoid(score) on real, -log(1 - sigmoid) on fake
    assert standard["loss/critic"].item() == pytest.approx(81.0, rel=1e-6)


def test_clipping_keeps_every_critic_weight_in_bounds(points):
    result = train(tiny(loss={"kind": "wgan-clip", "clip_value": 0.01}), points)
    assert max(p.abs().max().item() for p in result.critic.parameters()) <= 0.01
    assert 0.0 < result.metrics["stability/clip_pct"] <= 100.0


def test_train_returns_history_of_flat_metrics(points):
    result = train(tiny(), points)
    assert [h["step"] for h in result.history] == [2.0, 4.0]
    assert result.metrics is result.history[-1]
    expected_keys = {
        "loss/critic", "loss/generator", "loss/gp", "critic/real", "critic/fake", "wdist",
        "grad_norm/mean", "grad_norm/std", "weights/critic_mean", "weights/critic_std",
        "weights/generator_mean", "weights/generator_std", "stability/dg_ratio",
        "stability/loss_var", "quality/pixvar", "time/elapsed_s", "step",
    }
    assert expected_keys <= result.metrics.keys()
    assert all(isinstance(v, float) for v in result.metrics.values())
    assert result.metrics["wdist"] == pytest.approx(result.metrics["critic/real"] - result.metrics["critic/fake"])
    assert result.config.model.data_shape == (2,)


@pytest.mark.parametrize("kind", ["wgan-clip", "gan"])
def test_baselines_report_gradient_norms_too(kind, points):
    assert "grad_norm/mean" in train(tiny(loss={"kind": kind}), points).metrics


def test_same_seed_gives_identical_weights_and_other_seed_does_not(points):
    first, second = train(tiny(), points), train(tiny(), points)
    other = train(tiny(train={"seed": 1}), points)
    assert all(torch.equal(a, b) for a, b in zip(first.generator.parameters(), second.generator.parameters()))
    assert not all(torch.equal(a, b) for a, b in zip(first.generator.parameters(), other.generator.parameters()))


def test_callbacks_see_state_and_can_add_metrics(points):
    seen = []

    def callback(state, metrics):
        seen.append((state.step, metrics is not None))
        return {"custom/value": float(state.step) * 2}

    result = train(tiny(), points, callbacks=(callback,))
    assert seen == [(1, False), (2, True), (3, False), (4, True)]  # every step; metrics on logged ones
    assert [h["custom/value"] for h in result.history] == [4.0, 8.0]


def test_divergence_raises_with_the_step(points, monkeypatch):
    objective = losses.OBJECTIVES["wgan-gp"]
    monkeypatch.setitem(losses.OBJECTIVES, "wgan-gp",
                        replace(objective, critic_loss=lambda r, f: objective.critic_loss(r, f) * float("nan")))
    with pytest.raises(TrainingDiverged, match="diverged at step 1") as info:
        train(tiny(), points)
    assert info.value.step == 1


@pytest.mark.parametrize("data,message", [
    (torch.tensor([[0.0, float("nan")], [1.0, 1.0]]), "non-finite values .* first at index 0"),
    (torch.zeros(4, 2, 2), r"needs \(N, features\)"),
    (torch.zeros(0, 2), "empty"),
    (torch.zeros(4, 2, dtype=torch.long), "float tensor"),
])
def test_bad_data_is_rejected_before_training(data, message):
    with pytest.raises(ValueError, match=message):
        train(tiny(), data)


def test_data_shape_mismatch_is_rejected(points):
    with pytest.raises(ValueError, match="model.data_shape"):
        train(tiny(model={"data_shape": [3]}), points)


def test_conv_pair_trains_on_grids_and_conditional_on_a_dataset():
    grids = torch.rand(32, 2, 8, 8)
    labels = torch.arange(32) % 3
    cfg = {"model": {"kind": "conv", "latent_dim": 4, "base_channels": 4, "num_classes": 3, "critic_norm": "layer"},
           "train": {"steps": 2, "batch_size": 8, "log_every": 1}}
    result = train(cfg, TensorDataset(grids, labels))
    assert result.config.model.data_shape == (2, 8, 8)
    out = result.generator.sample(5, seed=0, condition=torch.tensor([0, 1, 2, 0, 1]))
    assert out.shape == (5, 2, 8, 8)


def test_conditional_model_needs_labels():
    with pytest.raises(ValueError, match="needs labelled data"):
        train({"model": {"num_classes": 3}, "train": {"steps": 1}}, torch.zeros(8, 2))


def test_labels_out_of_range_are_rejected():
    data = TensorDataset(torch.zeros(4, 2), torch.tensor([0, 1, 2, 3]))
    with pytest.raises(ValueError, match=r"labels must lie in \[0, 3\)"):
        train({"model": {"num_classes": 3}, "train": {"steps": 1}}, data)


def test_sample_is_seeded_and_switches_to_eval_mode(points):
    generator = train(tiny(), points).generator
    generator.train()
    a, b = generator.sample(10, seed=3), generator.sample(10, seed=3)
    assert not generator.training
    assert torch.equal(a, b)
    assert not torch.equal(a, generator.sample(10, seed=4))


def test_linear_schedule_decays_both_learning_rates_to_zero(points):
    seen = []
    train(tiny(optim={"lr_schedule": "linear", "lr_critic": 1e-3, "lr_generator": 2e-3}), points,
          callbacks=(lambda s, m: m and seen.append((m["lr/critic"], m["lr/generator"])),))
    # after step 2 of 4 the factor is 1 - 2/4; after step 4 it is 0
    assert seen == [(pytest.approx(5e-4), pytest.approx(1e-3)), (0.0, 0.0)]


def test_training_applies_the_public_norms_and_penalty(points, monkeypatch):
    calls = []
    real_norms, real_penalty = losses.gradient_norms, losses.penalty_from_norms
    monkeypatch.setattr(losses, "gradient_norms", lambda *a, **k: calls.append(k) or real_norms(*a, **k))
    monkeypatch.setattr(losses, "penalty_from_norms", lambda *a: calls.append(a[1:]) or real_penalty(*a))
    state = make_state(tiny(loss={"gp_center": 2.0, "one_sided": True}))
    training.critic_step(state, points[:16], None)
    assert len(calls) == 2 and calls[0]["grad_scale"] == 1.0 and calls[1] == (2.0, True)


@pytest.mark.parametrize("share, rows", [(1.0, 16), (0.25, 4), (0.3, 5)])
def test_gp_batch_takes_the_penalty_on_the_first_rows_of_the_batch(points, monkeypatch, share, rows):
    calls = []
    real_norms = losses.gradient_norms
    monkeypatch.setattr(losses, "gradient_norms", lambda *a, **k: calls.append((a, k)) or real_norms(*a, **k))
    state = make_state(tiny(loss={"gp_batch": share}))
    stats = training.critic_step(state, points[:16], None)
    (critic, real, fake), kwargs = calls[0]
    assert torch.equal(real, points[:rows]) and fake.shape == (rows, 2) and kwargs["alpha"].shape == (rows,)
    assert stats["grad_norm/mean"].shape == ()  # the norms of those rows


def test_zero_gp_weight_skips_the_penalty_and_lazy_steps_take_it_every_kth(points):
    state = make_state(tiny(loss={"gp_weight": 0.0}))
    assert "loss/gp" not in training.critic_step(state, points[:16], None)
    state = make_state(tiny(loss={"gp_every": 3}))
    assert ["loss/gp" in training.critic_step(state, points[:16], None) for _ in range(4)] == [True, False, False, True]


def test_divergence_is_read_back_only_on_logged_steps(points, monkeypatch):
    objective = losses.OBJECTIVES["wgan-gp"]
    monkeypatch.setitem(losses.OBJECTIVES, "wgan-gp",
                        replace(objective, critic_loss=lambda r, f: objective.critic_loss(r, f) * float("nan")))
    seen = []
    with pytest.raises(TrainingDiverged, match="diverged at step 1"):
        train(tiny(train={"log_every": 3, "steps": 6}), points, callbacks=(lambda s, m: seen.append(s.step),))
    assert seen == [1, 2]  # found at step 3, before its metrics and callbacks
