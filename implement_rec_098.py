"""rec_098 (sub-phase 5.68): Implement WGAN with Gradient Penalty for Improved GAN Training Stability.

Replaces the standard GAN loss (binary cross-entropy, Adam (0.5, 0.999)) with
the Wasserstein loss plus the gradient penalty (lambda = 10) and separate Adam
optimizers for generator and critic with betas (0.0, 0.9), then retrains and
evaluates against the standard GAN on the same data, networks, budget and seed.

    from implement_rec_098 import ImplementImplementWassersteinGanWithGradientPenaltyWgangpForImprovedGanTrainingStability as Impl
    impl = Impl({"mode": "test"})
    impl.setup()
    result = impl.execute()   # {'success': True, 'metrics': {...}, 'artifacts': {...}}
"""
from nba_ml.phase5 import Phase5Plugin, Recommendation


class ImplementImplementWassersteinGanWithGradientPenaltyWgangpForImprovedGanTrainingStability(Phase5Plugin):
    recommendation = Recommendation(
        rec_id="rec_098",
        sub_phase="5.68",
        title="Implement WGAN with Gradient Penalty for Improved GAN Training Stability",
        folder="5.68_implement_wasserstein_gan_with_gradient_penalty_wgan-gp_for_",
        kinds=("gan", "wgan-gp"),
        purpose="WGAN-GP replacing the standard GAN loss: sample quality, mode coverage and loss stability "
                "of both, trained with everything else equal.",
    )


WGANGPForStability = ImplementImplementWassersteinGanWithGradientPenaltyWgangpForImprovedGanTrainingStability  # short alias
