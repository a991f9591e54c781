"""rec_098: WGAN-GP replacing the standard GAN loss. Run `python test_rec_098.py -v` (or pytest)."""
import unittest

from implement_rec_098 import ImplementImplementWassersteinGanWithGradientPenaltyWgangpForImprovedGanTrainingStability
from nba_ml.gan import validate_config
from nba_ml.gan.training import make_optimizers
from nba_ml.gan.networks import build_critic, build_generator
from tests.plugin_contract import PluginContract


class TestRec098(PluginContract, unittest.TestCase):
    plugin_class = ImplementImplementWassersteinGanWithGradientPenaltyWgangpForImprovedGanTrainingStability

    def test_compares_the_standard_gan_with_wgan_gp(self):
        self.assertEqual(self.plugin_class.recommendation.kinds, ("gan", "wgan-gp"))
        self.assertIn("gan/shots/frechet", self.result["metrics"])
        self.assertNotIn("gan/final/loss/gp", self.result["metrics"])

    def test_wgan_gp_uses_lambda_10_and_separate_adam_with_betas_0_09(self):
        cfg = self.plugin_class().setup().gan
        self.assertEqual(cfg.loss.gp_weight, 10.0)
        wgan = validate_config({**cfg.model_dump(), "loss": {**cfg.loss.model_dump(), "kind": "wgan-gp"}}).with_data_shape((2,))
        critic, generator = build_critic(wgan), build_generator(wgan)
        opt_critic, opt_generator = make_optimizers(wgan, critic, generator)
        self.assertIsNot(opt_critic, opt_generator)
        for opt, lr in ((opt_critic, wgan.optim.lr_critic), (opt_generator, wgan.optim.lr_generator)):
            self.assertEqual(type(opt).__name__, "Adam")
            self.assertEqual(opt.param_groups[0]["betas"], (0.0, 0.9))
            self.assertEqual(opt.param_groups[0]["lr"], lr)
        self.assertEqual({id(p) for p in opt_critic.param_groups[0]["params"]}, {id(p) for p in critic.parameters()})

    def test_standard_gan_baseline_uses_its_own_betas(self):
        cfg = self.plugin_class().setup().gan
        gan = validate_config({**cfg.model_dump(), "loss": {**cfg.loss.model_dump(), "kind": "gan"}})
        self.assertEqual(gan.betas, (0.5, 0.999))


if __name__ == "__main__":
    unittest.main()
