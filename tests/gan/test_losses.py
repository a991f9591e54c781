"""nba_ml.gan.losses against hand-built tensors and an independent float64 reference."""
import numpy as np
import pytest
import torch
from torch import nn

from nba_ml.gan import (
    bce_discriminator_loss,
    bce_generator_loss,
    gradient_norms,
    gradient_penalty,
    wasserstein_critic_loss,
    wasserstein_generator_loss,
)
from nba_ml.gan.losses import interpolate



@pytest.fixture(autouse=True)
def float64():
    """Exact comparisons in double precision; restored so other test modules keep float32."""
    previous = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    yield
    torch.set_default_dtype(previous)


def test_wasserstein_losses_on_hand_built_scores():
    real, fake = torch.tensor([1.0, 2.0, 3.0]), torch.tensor([0.0, 1.0])
    assert wasserstein_critic_loss(real, fake).item() == pytest.approx(0.5 - 2.0)
    assert wasserstein_generator_loss(fake).item() == pytest.approx(-0.5)


def test_bce_losses_on_hand_built_logits():
    zeros = torch.zeros(4)
    assert bce_discriminator_loss(zeros, zeros).item() == pytest.approx(2 * np.log(2))
    # D(x) = sigmoid(2), D(G(z)) = sigmoid(-1): -log(sigmoid(2)) - log(1 - sigmoid(-1))
    expected = -np.log(1 / (1 + np.exp(-2))) - np.log(1 - 1 / (1 + np.exp(1)))
    assert bce_discriminator_loss(torch.tensor([2.0]), torch.tensor([-1.0])).item() == pytest.approx(expected)
    assert bce_generator_loss(torch.tensor([-1.0])).item() == pytest.approx(-np.log(1 / (1 + np.exp(1))))


def test_interpolate_uses_one_alpha_per_sample_for_any_rank():
    real, fake = torch.ones(2, 3, 4, 4), torch.zeros(2, 3, 4, 4)
    x_hat = interpolate(real, fake, alpha=torch.tensor([0.25, 0.75]))
    assert x_hat.requires_grad
    assert torch.equal(x_hat[0], torch.full((3, 4, 4), 0.25))
    assert torch.equal(x_hat[1], torch.full((3, 4, 4), 0.75))


@pytest.mark.parametrize("shape", [(8, 5), (4, 2, 3, 3)])
@pytest.mark.parametrize("weight_norm", [0.5, 1.0, 3.0])
def test_linear_critic_penalty_is_exact(shape, weight_norm):
    # f(x) = <w, x> + b has gradient w everywhere: penalty = (||w|| - 1)^2 exactly.
    torch.manual_seed(0)
    w = torch.randn(int(np.prod(shape[1:])))
    w = w * weight_norm / w.norm()
    critic = lambda x: x.reshape(x.shape[0], -1) @ w + 0.3
    real, fake = torch.randn(shape), torch.randn(shape)
    gp = gradient_penalty(critic, real, fake)
    assert gp.item() == pytest.approx((weight_norm - 1.0) ** 2, rel=1e-12, abs=1e-12)


@pytest.mark.parametrize("weight_norm,two_sided,one_sided", [(0.5, 0.25, 0.0), (3.0, 4.0, 4.0)])
def test_one_sided_penalises_only_norms_above_center(weight_norm, two_sided, one_sided):
    w = torch.tensor([weight_norm, 0.0])
    critic = lambda x: x @ w
    real, fake = torch.randn(6, 2), torch.randn(6, 2)
    assert gradient_penalty(critic, real, fake).item() == pytest.approx(two_sided)
    assert gradient_penalty(critic, real, fake, one_sided=True).item() == pytest.approx(one_sided)


def test_center_moves_the_target_norm():
    critic = lambda x: x @ torch.tensor([2.0, 0.0])
    real, fake = torch.randn(6, 2), torch.randn(6, 2)
    assert gradient_penalty(critic, real, fake, center=2.0).item() == pytest.approx(0.0, abs=1e-12)


@pytest.mark.parametrize("shape", [(5, 3), (3, 2, 2, 2)])
def test_norm_is_taken_per_sample(shape):
    # f(x) = ||x||^2 / 2 has gradient x, so the per-sample norm is ||x_i||; with
    # real == fake the interpolate is x itself. A batch-global norm would differ.
    x = torch.randn(shape) * torch.arange(1, shape[0] + 1).reshape(-1, *[1] * (len(shape) - 1))
    critic = lambda t: 0.5 * t.reshape(t.shape[0], -1).square().sum(dim=1)
    norms = x.reshape(shape[0], -1).norm(dim=1)
    expected = ((norms - 1) ** 2).mean().item()
    assert gradient_penalty(critic, x, x.clone()).item() == pytest.approx(expected, rel=1e-12)
    assert expected != pytest.approx(((x.norm() - 1) ** 2).item())


def test_zero_gradient_gives_finite_penalty_and_parameter_gradient():
    critic = nn.Linear(3, 1)
    nn.init.zeros_(critic.weight)
    penalty = gradient_penalty(lambda x: critic(x).squeeze(1), torch.randn(4, 3), torch.randn(4, 3))
    assert penalty.item() == pytest.approx(1.0)  # (0 - 1)^2
    penalty.backward()
    assert torch.isfinite(critic.weight.grad).all()
    assert torch.isfinite(critic.bias.grad if critic.bias.grad is not None else torch.zeros(1)).all()


def test_condition_is_passed_to_the_critic_unchanged():
    seen = {}

    def critic(x, condition):
        seen["condition"] = condition
        return x.sum(dim=1) * condition.double()

    labels = torch.tensor([1, 2, 3])
    penalty = gradient_penalty(critic, torch.randn(3, 4), torch.randn(3, 4), condition=labels)
    assert seen["condition"] is labels
    # gradient of c * sum(x) is c * ones(4): norm 2c
    assert penalty.item() == pytest.approx(np.mean([(2 * c - 1) ** 2 for c in (1, 2, 3)]))


# ---- independent float64 reference: a tanh MLP with a closed-form input gradient ----

def _reference_penalty(params: dict, x_hat: np.ndarray) -> float:
    """f(x) = v . tanh(W x + b) + c  =>  grad_x f = W^T (v * (1 - tanh^2(W x + b)))."""
    hidden = np.tanh(x_hat @ params["W"].T + params["b"])
    grads = (params["v"] * (1 - hidden**2)) @ params["W"]
    norms = np.sqrt((grads**2).sum(axis=1))
    return float(((norms - 1) ** 2).mean())


def test_mlp_penalty_and_its_parameter_gradient_match_the_float64_reference():
    torch.manual_seed(1)
    net = nn.Sequential(nn.Linear(3, 6), nn.Tanh(), nn.Linear(6, 1))
    critic = lambda x: net(x).squeeze(1)
    real, fake, alpha = torch.randn(7, 3), torch.randn(7, 3), torch.rand(7)
    penalty = gradient_penalty(critic, real, fake, alpha=alpha)
    penalty.backward()  # double backward through the input gradient

    params = {"W": net[0].weight.detach().numpy().copy(), "b": net[0].bias.detach().numpy().copy(),
              "v": net[2].weight.detach().numpy()[0].copy()}
    x_hat = (alpha[:, None] * real + (1 - alpha[:, None]) * fake).numpy()
    assert penalty.item() == pytest.approx(_reference_penalty(params, x_hat), rel=1e-10)

    # Parameter gradient by central finite differences of the closed form.
    eps = 1e-6
    for name, torch_grad in [("W", net[0].weight.grad), ("b", net[0].bias.grad), ("v", net[2].weight.grad[0])]:
        numeric = np.zeros_like(params[name])
        for idx in np.ndindex(params[name].shape):
            up = {k: v.copy() for k, v in params.items()}
            down = {k: v.copy() for k, v in params.items()}
            up[name][idx] += eps
            down[name][idx] -= eps
            numeric[idx] = (_reference_penalty(up, x_hat) - _reference_penalty(down, x_hat)) / (2 * eps)
        np.testing.assert_allclose(torch_grad.numpy(), numeric, rtol=1e-6, atol=1e-9)
    assert net[2].bias.grad is None or float(net[2].bias.grad.abs().max()) == 0.0  # c does not move the gradient


def test_objective_table_has_one_entry_per_loss_kind():
    from typing import get_args

    from nba_ml.gan.config import LossKind
    from nba_ml.gan.losses import OBJECTIVES

    assert set(OBJECTIVES) == set(get_args(LossKind))
    assert [kind for kind, o in OBJECTIVES.items() if o.penalised] == ["wgan-gp"]
    assert [kind for kind, o in OBJECTIVES.items() if o.clip is not None] == ["wgan-clip"]


def test_penalty_and_gradient_norms_on_hand_built_interpolates():
    # f(x) = ||x||^2 / 2 has gradient x. alpha 1/2 between (3, 0) and (1, 0) gives x_hat (2, 0); alpha 1/4
    # between (0, 0) and (0, 4) gives (0, 3): norms 2 and 3, penalty ((2 - 1)^2 + (3 - 1)^2) / 2 = 2.5.
    critic = lambda x: 0.5 * x.square().sum(dim=1)
    real, fake, alpha = torch.tensor([[3.0, 0.0], [0.0, 0.0]]), torch.tensor([[1.0, 0.0], [0.0, 4.0]]), torch.tensor([0.5, 0.25])
    norms, gp = gradient_norms(critic, real, fake, alpha=alpha), gradient_penalty(critic, real, fake, alpha=alpha)
    assert norms.tolist() == [pytest.approx(2.0, rel=1e-15), pytest.approx(3.0, rel=1e-15)]
    assert gp.shape == () and gp.item() == pytest.approx(2.5, rel=1e-15)
    # one-sided around 2.5: only the norm 3 counts, (3 - 2.5)^2 / 2
    one_sided = gradient_penalty(critic, real, fake, alpha=alpha, center=2.5, one_sided=True)
    assert one_sided.item() == pytest.approx(0.125, rel=1e-15)


def test_penalty_parameter_gradient_on_a_hand_built_linear_critic():
    # f(x) = <w, x> + b with w = (3, 4): every norm is ||w|| = 5, the penalty (5 - 1)^2 = 16, and its
    # gradient in w is 2 (||w|| - 1) w / ||w|| = (4.8, 6.4); b does not move the input gradient.
    critic = nn.Linear(2, 1)
    with torch.no_grad():
        critic.weight.copy_(torch.tensor([[3.0, 4.0]]))
        critic.bias.fill_(-7.0)
    real, fake = torch.randn(3, 2), torch.randn(3, 2)
    norms = gradient_norms(lambda x: critic(x).squeeze(1), real, fake)
    gp = gradient_penalty(lambda x: critic(x).squeeze(1), real, fake)
    gp.backward()
    assert norms.tolist() == [pytest.approx(5.0, rel=1e-15)] * 3
    assert gp.item() == pytest.approx(16.0, rel=1e-15)
    assert critic.weight.grad.tolist() == [[pytest.approx(4.8, rel=1e-14), pytest.approx(6.4, rel=1e-14)]]
    assert critic.bias.grad is None or critic.bias.grad.item() == 0.0


def test_scaled_input_gradients_are_unscaled_before_the_norm():
    # fp16 loss scaling (PyTorch's AMP gradient-penalty recipe): same norms and penalty for any scale
    critic = nn.Sequential(nn.Linear(3, 8), nn.Tanh(), nn.Linear(8, 1))
    real, fake, alpha = torch.randn(5, 3), torch.randn(5, 3), torch.rand(5)
    gp, norms = gradient_penalty(critic, real, fake, alpha=alpha), gradient_norms(critic, real, fake, alpha=alpha)
    gp_scaled = gradient_penalty(critic, real, fake, alpha=alpha, grad_scale=65536.0)
    norms_scaled = gradient_norms(critic, real, fake, alpha=alpha, grad_scale=65536.0)
    assert torch.allclose(norms_scaled.double(), norms, rtol=1e-6)
    assert gp_scaled.item() == pytest.approx(gp.item(), rel=1e-5)


def test_half_precision_gradients_are_normed_in_float32():
    critic = nn.Sequential(nn.Linear(3, 8), nn.Tanh(), nn.Linear(8, 1)).to(torch.bfloat16)
    real, fake = torch.randn(5, 3, dtype=torch.bfloat16), torch.randn(5, 3, dtype=torch.bfloat16)
    gp, norms = gradient_penalty(critic, real, fake, grad_scale=1024.0), gradient_norms(critic, real, fake, grad_scale=1024.0)
    assert (gp.dtype, norms.dtype) == (torch.float32, torch.float32)


def _peer_penalty(critic, real, fake, alpha):
    """The penalty as torch-mimicry's compute_gradient_penalty_loss and ctgan's calc_gradient_penalty
    write it (weight 1): autograd.grad with ones as grad_outputs, the 2-norm per flattened sample."""
    x_hat = (alpha.reshape(-1, *[1] * (real.dim() - 1)) * real + (1 - alpha.reshape(-1, *[1] * (real.dim() - 1))) * fake)
    x_hat.requires_grad_(True)
    out = critic(x_hat)
    (grads,) = torch.autograd.grad(out, x_hat, grad_outputs=torch.ones_like(out), create_graph=True, retain_graph=True)
    return ((grads.reshape(grads.shape[0], -1).norm(2, dim=1) - 1) ** 2).mean()


@pytest.mark.parametrize("shape", [(6, 3), (4, 2, 3, 3)])
def test_the_penalty_is_a_scalar_to_weight_and_add_as_the_peers_do(shape):
    torch.manual_seed(2)
    net = nn.Sequential(nn.Flatten(), nn.Linear(int(np.prod(shape[1:])), 8), nn.Tanh(), nn.Linear(8, 1))
    critic = lambda x: net(x).squeeze(1)
    real, fake, alpha = torch.randn(shape), torch.randn(shape), torch.rand(shape[0])
    d_loss = wasserstein_critic_loss(critic(real), critic(fake))

    ours = d_loss + 10 * gradient_penalty(critic, real, fake, alpha=alpha)  # as the guide writes it
    ours.backward()
    ours_grads = [p.grad.clone() for p in net.parameters()]
    net.zero_grad()
    peer = wasserstein_critic_loss(critic(real), critic(fake)) + 10 * _peer_penalty(critic, real, fake, alpha)
    peer.backward()

    assert ours.shape == () and ours.item() == pytest.approx(peer.item(), rel=1e-12)
    for mine, theirs in zip(ours_grads, (p.grad for p in net.parameters())):
        torch.testing.assert_close(mine, theirs, rtol=1e-10, atol=1e-12)
