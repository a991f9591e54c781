"""nba_ml.phase5.experiment: the run both plugins share is trained once per process, and runs trained
ahead in worker processes give the same figures as runs trained in process."""
import os
from dataclasses import dataclass

import pytest

from nba_ml.phase5 import experiment
from nba_ml.phase5.config import PluginConfig
from nba_ml.phase5.progress import QUIET


def make_task(cfg):
    return cfg.data_kind.make_task(cfg, None, QUIET, "")


def test_the_main_job_trains_a_run_both_plugins_share_once(tmp_path, monkeypatch):
    monkeypatch.setattr(experiment, "TRAINED_RUNS", {})
    trained = []
    real_train = experiment.guarded_train
    monkeypatch.setattr(experiment, "guarded_train",
                        lambda cfg, *a, **k: trained.append(cfg.loss.kind) or real_train(cfg, *a, **k))
    cfg = PluginConfig.model_validate({"mode": "test", "data": "8gaussians"})
    first = experiment.compare(cfg.gan, ("wgan-clip", "wgan-gp"), make_task(cfg), tmp_path / "a")
    second = experiment.compare(cfg.gan, ("gan", "wgan-gp"), make_task(cfg), tmp_path / "b")
    assert trained == ["wgan-clip", "wgan-gp", "gan"]  # the WGAN-GP run once
    assert (first.metrics["wgan_gp/time/reused"], second.metrics["wgan_gp/time/reused"]) == (0.0, 1.0)
    same = ("wgan_gp/final/loss/critic", "wgan_gp/quality/modes_covered", "wgan_gp/time/train_s")
    assert [first.metrics[k] for k in same] == [second.metrics[k] for k in same]
    other_seed = PluginConfig.model_validate({"mode": "test", "data": "8gaussians", "gan": {"train": {"seed": 1}}})
    experiment.compare(other_seed.gan, ("wgan-gp",), make_task(other_seed), tmp_path / "c")
    assert trained[-1] == "wgan-gp"  # another seed is another run


def planned(cfg, task, kinds):
    seed = experiment.evaluation_seed(cfg.gan)
    return [experiment.PlannedRun(run_cfg, task, seed, name) for name, run_cfg in experiment.run_configs(cfg.gan, kinds).items()]


def test_runs_trained_ahead_in_workers_give_the_figures_of_runs_trained_in_process(tmp_path, monkeypatch):
    cfg = PluginConfig.model_validate({"mode": "test", "data": "8gaussians"})
    task, kinds = make_task(cfg), ("wgan-clip", "wgan-gp")
    monkeypatch.setattr(experiment, "TRAINED_RUNS", {})
    assert experiment.train_ahead(planned(cfg, task, kinds), jobs=2) == 2
    ahead = experiment.compare(cfg.gan, kinds, task, tmp_path / "ahead")
    monkeypatch.setattr(experiment, "TRAINED_RUNS", {})
    in_process = experiment.compare(cfg.gan, kinds, task, tmp_path / "here")
    figures = lambda c: {k: v for k, v in c.metrics.items() if "/time/" not in k}
    assert figures(ahead) == figures(in_process)  # every weight, loss and quality figure to the last bit
    assert ahead.metrics["wgan_gp/time/reused"] == 0.0  # trained ahead is not "reused" by its first comparison


@dataclass
class FailsInWorkers(experiment.PointTask):
    parent: int = 0

    def callbacks(self, seed):
        if os.getpid() != self.parent:
            raise RuntimeError("trouble in a worker")
        return super().callbacks(seed)


def test_a_run_whose_worker_fails_is_left_to_train_in_process(monkeypatch):
    cfg = PluginConfig.model_validate({"mode": "test", "data": "8gaussians"})
    base = make_task(cfg)
    task = FailsInWorkers(base.data, base.eval_samples, parent=os.getpid())
    monkeypatch.setattr(experiment, "TRAINED_RUNS", {})
    assert experiment.train_ahead(planned(cfg, task, ("wgan-clip", "wgan-gp")), jobs=2) == 0
    assert experiment.TRAINED_RUNS == {}
    result, _, reused = experiment.train_once(planned(cfg, task, ("wgan-gp",))[0].cfg, task, experiment.evaluation_seed(cfg.gan))
    assert not reused and result.state.step == cfg.gan.train.steps


@pytest.mark.parametrize("jobs", [1, 4])
def test_one_job_or_one_run_trains_nothing_ahead(jobs, monkeypatch):
    cfg = PluginConfig.model_validate({"mode": "test", "data": "8gaussians"})
    monkeypatch.setattr(experiment, "TRAINED_RUNS", {})
    kinds = ("wgan-gp",) if jobs > 1 else ("wgan-clip", "wgan-gp")
    assert experiment.train_ahead(planned(cfg, make_task(cfg), kinds), jobs=jobs) == 0
