"""The Phase 5 plugin contract, checked for each recommendation by test_rec_115.py and test_rec_098.py.

A mixin for unittest.TestCase: subclasses set `plugin_class`. One test-mode
execute() per class (setUpClass) keeps the files fast.
"""
import json
import math
from dataclasses import replace
import shutil
import tempfile
from pathlib import Path
from unittest import mock

from nba_ml.gan import ConfigError
from nba_ml.gan import losses
from nba_ml.phase5 import PluginConfig


class PluginContract:
    plugin_class = None  # set by the subclass

    @classmethod
    def setUpClass(cls):
        cls.tmp = Path(tempfile.mkdtemp(prefix="nba_ml_test_"))
        cls.config = {"mode": "test", "output_dir": str(cls.tmp / "out"), "status_path": str(cls.tmp / "STATUS.md")}
        impl = cls.plugin_class(cls.config)
        impl.setup()
        cls.result = impl.execute()
        cls.status_text = (cls.tmp / "STATUS.md").read_text(encoding="utf-8")

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def runs(self):
        return [kind.replace("-", "_") for kind in self.plugin_class.recommendation.kinds]

    # -- setup ---------------------------------------------------------------

    def test_setup_returns_the_validated_config(self):
        cfg = self.plugin_class({"mode": "test"}).setup()
        self.assertIsInstance(cfg, PluginConfig)
        self.assertEqual(cfg.mode, "test")
        self.assertEqual(cfg.gan.train.steps, 20)  # the test preset
        self.assertEqual(cfg.gan.loss.gp_weight, 10.0)
        self.assertEqual((cfg.data, cfg.charts.grid, cfg.shots_per_chart), ("shot_charts", 16, 50))

    def test_default_config_is_production_and_valid(self):
        cfg = self.plugin_class().setup()
        self.assertEqual(cfg.mode, "production")
        self.assertTrue(cfg.enabled)

    def test_gan_section_overrides_the_preset(self):
        cfg = self.plugin_class({"mode": "test", "gan": {"train": {"steps": 7}, "loss": {"n_critic": 3}}}).setup()
        self.assertEqual((cfg.gan.train.steps, cfg.gan.loss.n_critic, cfg.gan.model.hidden_dim), (7, 3, 32))

    def test_missing_data_file_is_rejected_at_setup(self):
        with self.assertRaisesRegex(ConfigError, r"(?m)^\s+data_file: Path does not point to a file"):
            self.plugin_class({"data_file": str(self.tmp / "absent.csv.gz")}).setup()

    def test_invalid_config_names_every_bad_field_and_trains_nothing(self):
        out = self.tmp / "never"
        impl = self.plugin_class({"mode": "fast", "eval_samples": 0, "output_dir": str(out),
                                  "gan": {"train": {"batch_size": -1}}, "colour": "red"})
        with self.assertRaises(ConfigError) as ctx:
            impl.setup()
        message = str(ctx.exception)
        self.assertIsInstance(ctx.exception, ValueError)
        for field in ("mode", "eval_samples", "gan.train.batch_size", "colour"):
            self.assertRegex(message, rf"(?m)^\s+{field}:")
        self.assertFalse(out.exists())

    def test_loss_kind_is_chosen_by_the_plugin(self):
        with self.assertRaisesRegex(ConfigError, "gan.loss.kind is chosen by the plugin"):
            self.plugin_class({"gan": {"loss": {"kind": "gan"}}}).setup()

    # -- execute ---------------------------------------------------------------

    def test_execute_before_setup_raises(self):
        with self.assertRaisesRegex(RuntimeError, r"call impl.setup\(\) first"):
            self.plugin_class({"mode": "test"}).execute()

    def test_execute_succeeds_with_metrics_for_both_runs(self):
        self.assertTrue(self.result["success"], self.result.get("error"))
        for run in self.runs():
            for key in ("shots/zone_mae_pp", "shots/frechet", "shots/precision", "shots/recall", "shots/G/frechet",
                        "final/grad_norm/mean", "final/loss/critic", "final/loss/generator", "final/wdist", "time/train_s"):
                self.assertIn(f"{run}/{key}", self.result["metrics"])
        # the floor: the same metrics between the training league and a second, unseen one
        for key in ("shots/zone_mae_pp", "shots/frechet", "shots/precision", "shots/recall"):
            self.assertIn(f"floor/{key}", self.result["metrics"])
        self.assertEqual(self.result["metrics"]["floor/shots/n_real_charts"], self.result["metrics"][f"{self.runs()[1]}/shots/n_real_charts"])

    def test_metric_values_are_in_range_and_the_real_floor_beats_a_20_step_run(self):
        metrics = self.result["metrics"]
        for run in (*self.runs(), "floor"):
            for scope in ("", "G/", "F/", "C/"):
                for name in ("precision", "recall"):
                    self.assertTrue(0.0 <= metrics[f"{run}/shots/{scope}{name}"] <= 1.0, f"{run}/shots/{scope}{name}")
                for name in ("frechet", "zone_mae_pp"):
                    self.assertTrue(0.0 <= metrics[f"{run}/shots/{scope}{name}"] < math.inf, f"{run}/shots/{scope}{name}")
        for run in self.runs():
            for key in ("final/loss/critic", "final/loss/generator", "final/wdist", "final/grad_norm/mean", "time/train_s"):
                self.assertTrue(math.isfinite(metrics[f"{run}/{key}"]), f"{run}/{key}")
            self.assertEqual(metrics[f"{run}/final/step"], 20.0)  # the test preset's budget, trained to the end
            self.assertEqual(metrics[f"{run}/final/guard/retries"], 0.0)
            self.assertEqual(metrics[f"{run}/shots/n_generated_charts"], metrics[f"{run}/shots/n_real_charts"])
            # Two real leagues are closer than 20 training steps get: the floor is a floor.
            self.assertLess(metrics["floor/shots/frechet"], metrics[f"{run}/shots/frechet"])
            self.assertGreater(metrics["floor/shots/recall"], metrics[f"{run}/shots/recall"])
            # ...and the triage sees it: after 20 steps every run is judged collapsed, on its quality figures.
            self.assertEqual(self.result["triage"][run]["verdict"], "mode_collapse")
            self.assertTrue(any("collapsed" in finding for finding in self.result["triage"][run]["findings"]))

    def test_field_of_the_other_data_kind_is_an_error_not_ignored(self):
        with self.assertRaisesRegex(ConfigError, r"(?m)^  charts: applies to data: shot_charts only, not data '25gaussians'$"):
            self.plugin_class({"data": "25gaussians", "charts": {"grid": 8}}).setup()
        with self.assertRaisesRegex(ConfigError, r"(?m)^  n_samples: applies to a point benchmark .* only, not data 'shot_charts'$"):
            self.plugin_class({"mode": "test", "n_samples": 100}).setup()

    def test_shot_model_and_memory_errors_are_found_at_setup(self):
        with self.assertRaisesRegex(ConfigError, r"basis: a basis model generates mixture weights, so it needs gan.model.kind='mlp'"):
            self.plugin_class({"mode": "test", "gan": {"model": {"kind": "conv"}}}).setup()
        with self.assertRaisesRegex(ConfigError, r"this config needs about .* GB to train .* lower model.hidden_dim"):
            self.plugin_class({"mode": "test", "gan": {"guard": {"max_memory_gb": 0.001}, "train": {"batch_size": 100_000}}}).setup()

    def test_a_bug_in_execute_returns_failure_with_the_traceback_in_a_log_file(self):
        out = self.tmp / "bug"
        impl = self.plugin_class({**self.config, "output_dir": str(out), "status_path": str(out / "STATUS.md")})
        impl.setup()
        with mock.patch("nba_ml.phase5.config.make_charts", side_effect=KeyError("a bug")):
            result = impl.execute()
        self.assertFalse(result["success"])
        self.assertRegex(result["error"], r"^KeyError: 'a bug' \(at .*; traceback in .*error.log\)$")
        log = Path(result["artifacts"]["error_log"]).read_text()
        self.assertTrue(log.startswith("Traceback (most recent call last):") and "KeyError: 'a bug'" in log)

    def test_point_benchmark_reports_mode_coverage(self):
        out = self.tmp / "points"
        impl = self.plugin_class({"mode": "test", "data": "25gaussians", "output_dir": str(out), "status_path": str(out / "STATUS.md")})
        impl.setup()
        result = impl.execute()
        self.assertTrue(result["success"], result.get("error"))
        for run in self.runs():
            for key in ("quality/modes_covered", "quality/hq_pct", "quality/pixvar", "stability/modes_covered_late_min"):
                self.assertIn(f"{run}/{key}", result["metrics"])
            self.assertEqual(result["metrics"][f"{run}/quality/modes_total"], 25.0)
        covered = [f"{result['metrics'][f'{run}/quality/modes_covered']:.4g}" for run in self.runs()]
        self.assertIn(f"| modes covered (of quality/modes_total) | {' | '.join(covered)} | — |", (out / "STATUS.md").read_text())

    def test_artifacts_exist_and_metrics_json_matches_the_result(self):
        artifacts = self.result["artifacts"]
        for name in ("samples_plot", "metrics", "status") + tuple(f"history_{run}" for run in self.runs()):
            self.assertTrue(Path(artifacts[name]).is_file(), name)
        saved = json.loads(Path(artifacts["metrics"]).read_text())
        self.assertEqual(saved.keys(), self.result["metrics"].keys())
        for key, value in self.result["metrics"].items():  # strict JSON: a non-finite number is written as null
            self.assertEqual(saved[key], value if math.isfinite(value) else None, key)
        self.assertEqual(Path(artifacts["samples_plot"]).read_bytes()[:8], b"\x89PNG\r\n\x1a\n")

    def test_status_md_has_status_config_metrics_and_artifacts(self):
        rec = self.plugin_class.recommendation
        self.assertIn(f"# STATUS: {rec.sub_phase} {rec.title} ({rec.rec_id})", self.status_text)
        self.assertIn("**Status:** ✅ COMPLETE", self.status_text)
        self.assertRegex(self.status_text, r"\*\*Last run:\*\* \d{4}-\d\d-\d\d \d\d:\d\d UTC")
        self.assertIn("| mode | test |", self.status_text)
        self.assertIn(f"| metric | {' | '.join(self.runs())} | real floor |", self.status_text)
        cells = [f"{self.result['metrics'][f'{key}/shots/frechet']:.4g}" for key in (*self.runs(), "floor")]
        self.assertIn(f"| Frechet distance of per-chart features (lower is better) | {' | '.join(cells)} |", self.status_text)
        self.assertIn("shot charts from built-in synthetic league", self.status_text)
        self.assertIn(f"- samples_plot: `{self.result['artifacts']['samples_plot']}`", self.status_text)

    def test_default_status_path_is_the_recommendation_folder(self):
        impl = self.plugin_class()
        impl.setup()
        folder = Path(__file__).resolve().parents[1] / "docs" / "phases" / "phase_5" / self.plugin_class.recommendation.folder
        self.assertEqual(impl.status_path, folder / "STATUS.md")
        self.assertTrue((folder / "README.md").is_file())

    def test_disabled_skips_training_and_says_so(self):
        out, status = self.tmp / "disabled", self.tmp / "disabled_STATUS.md"
        impl = self.plugin_class({"enabled": False, "output_dir": str(out), "status_path": str(status)})
        impl.setup()
        result = impl.execute()
        self.assertEqual((result["success"], result["skipped"], result["metrics"]), (True, True, {}))
        self.assertFalse(out.exists())
        self.assertIn("SKIPPED", status.read_text())

    def test_divergence_returns_failure_instead_of_raising(self):
        objective = losses.OBJECTIVES["wgan-gp"]
        nan_loss = lambda r, f: objective.critic_loss(r, f) * float("nan")
        status = self.tmp / "failed_STATUS.md"
        impl = self.plugin_class({**self.config, "output_dir": str(self.tmp / "failed"), "status_path": str(status)})
        impl.setup()
        with mock.patch.dict(losses.OBJECTIVES, {"wgan-gp": replace(objective, critic_loss=nan_loss)}):
            result = impl.execute()
        self.assertFalse(result["success"])
        self.assertRegex(result["error"], r"wgan-gp run failed: TrainingDiverged: training diverged at step 1: "
                                          r"loss/critic=nan.*\(after 2 retries: 1\) .* rolled back to step 0, retrying with lr_critic")
        self.assertIn("**Status:** ❌ FAILED", status.read_text())
        self.assertEqual(result["triage"]["wgan_gp"]["verdict"], "diverging")
        self.assertIn("diverged at step 1", status.read_text())

    def test_result_and_status_carry_the_triage_verdict(self):
        for run in self.runs():
            report = self.result["triage"][run]
            self.assertIn(report["verdict"], ("stable", "unstable", "mode_collapse", "diverging"))
            self.assertIn(f"{run}/triage/verdict_code", self.result["metrics"])
            self.assertIn(f"- **{run}: {report['verdict']}**", self.status_text)
