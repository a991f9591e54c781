"""rec_115 (sub-phase 5.85): Implement Gradient Penalty for Wasserstein GAN (WGAN-GP).

Adds the gradient penalty to the critic loss (nba_ml.gan.gradient_penalty: the
gradient of the critic at points between real and fake, its per-sample norm,
and lambda * (norm - 1)^2) and shows its effect: WGAN-GP is trained beside the
weight-clipping WGAN it improves on, with the same data, networks, budget and
seed, and both are reported side by side.

    from implement_rec_115 import ImplementImplementGradientPenaltyForWassersteinGanWgangp
    impl = ImplementImplementGradientPenaltyForWassersteinGanWgangp({"mode": "test"})
    impl.setup()
    result = impl.execute()   # {'success': True, 'metrics': {...}, 'artifacts': {...}}
"""
from nba_ml.phase5 import Phase5Plugin, Recommendation


class ImplementImplementGradientPenaltyForWassersteinGanWgangp(Phase5Plugin):
    recommendation = Recommendation(
        rec_id="rec_115",
        sub_phase="5.85",
        title="Implement Gradient Penalty for Wasserstein GAN (WGAN-GP)",
        folder="5.0085_implement_gradient_penalty_for_wasserstein_gan_wgan-gp",
        kinds=("wgan-clip", "wgan-gp"),
        purpose="the gradient penalty against weight clipping: it should hold the critic's gradient norm at "
                "interpolates near 1, where clipping does not, and give better samples.",
    )


GradientPenaltyWGAN = ImplementImplementGradientPenaltyForWassersteinGanWgangp  # short alias
