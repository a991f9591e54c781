"""rec_115: gradient penalty for WGAN. Run `python test_rec_115.py -v` (or pytest)."""
import unittest

from implement_rec_115 import ImplementImplementGradientPenaltyForWassersteinGanWgangp
from tests.plugin_contract import PluginContract


class TestRec115(PluginContract, unittest.TestCase):
    plugin_class = ImplementImplementGradientPenaltyForWassersteinGanWgangp

    def test_compares_weight_clipping_with_the_gradient_penalty(self):
        self.assertEqual(self.plugin_class.recommendation.kinds, ("wgan-clip", "wgan-gp"))
        self.assertIn("wgan_clip/final/stability/clip_pct", self.result["metrics"])
        self.assertNotIn("wgan_gp/final/stability/clip_pct", self.result["metrics"])
        self.assertIn("wgan_gp/final/loss/gp", self.result["metrics"])

    def test_penalty_holds_the_gradient_norm_nearer_one_than_clipping(self):
        # Deterministic at the test preset's seed; the production figures are in STATUS.md.
        m = self.result["metrics"]
        self.assertLess(abs(m["wgan_gp/final/grad_norm/mean"] - 1), abs(m["wgan_clip/final/grad_norm/mean"] - 1))


if __name__ == "__main__":
    unittest.main()
