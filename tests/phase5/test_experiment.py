"""nba_ml.phase5.experiment: a run two comparisons share is trained once, and runs trained ahead in
worker processes give the same figures as runs trained in process."""
import os
from dataclasses import dataclass

import pytest

from nba_ml.phase5 import experiment
from nba_ml.phase5.config import PluginConfig
from nba_ml.phase5.progress import QUIET


def points_config(**gan):
    return PluginConfig.model_validate({"mode": "test", "data": "8gaussians", "gan": gan})


def runs_of(cfg, kinds):
    return experiment.comparison_runs(cfg.for_task(), cfg.gan, kinds)


def task_of(cfg):
    return cfg.data_kind.make_task(cfg, None, QUIET, "")


def test_a_run_two_comparisons_share_is_trained_once(tmp_path, monkeypatch):
    trained_kinds = []
    real_train = experiment.guarded_train
    monkeypatch.setattr(experiment, "guarded_train",
                        lambda cfg, *a, **k: trained_kinds.append(cfg.loss.kind) or real_train(cfg, *a, **k))
    cfg, trained = points_config(), {}
    first = experiment.compare(runs_of(cfg, ("wgan-clip", "wgan-gp")), task_of(cfg), tmp_path / "a", trained)
    second = experiment.compare(runs_of(cfg, ("gan", "wgan-gp")), task_of(cfg), tmp_path / "b", trained)
    assert trained_kinds == ["wgan-clip", "wgan-gp", "gan"]  # the WGAN-GP run once
    assert (first.metrics["wgan_gp/time/reused"], second.metrics["wgan_gp/time/reused"]) == (0.0, 1.0)
    same = ("wgan_gp/final/loss/critic", "wgan_gp/quality/modes_covered", "wgan_gp/time/train_s")
    assert [first.metrics[k] for k in same] == [second.metrics[k] for k in same]
    other_seed = points_config(train={"seed": 1})
    experiment.compare(runs_of(other_seed, ("wgan-gp",)), task_of(other_seed), tmp_path / "c", trained)
    assert trained_kinds[-1] == "wgan-gp"  # another seed is another run


def test_a_run_is_named_by_its_configs_not_by_where_its_results_go():
    here, there = points_config(), PluginConfig.model_validate({"mode": "test", "data": "8gaussians", "output_dir": "x"})
    assert runs_of(here, ("wgan-gp",)) == runs_of(there, ("wgan-gp",))
    assert runs_of(here, ("wgan-gp",)) != runs_of(points_config(train={"steps": 3}), ("wgan-gp",))
    assert runs_of(here, ("wgan-gp",)) != runs_of(PluginConfig.model_validate({"mode": "test", "data": "swissroll"}), ("wgan-gp",))


def ahead(cfg, task, kinds):
    return [(run, task, name) for name, run in runs_of(cfg, kinds).items()]


def test_runs_trained_ahead_in_workers_give_the_figures_of_runs_trained_in_process(tmp_path):
    cfg = points_config()
    task, kinds, trained = task_of(cfg), ("wgan-clip", "wgan-gp"), {}
    assert experiment.train_ahead(ahead(cfg, task, kinds), jobs=2, trained=trained) == 2
    in_workers = experiment.compare(runs_of(cfg, kinds), task, tmp_path / "ahead", trained)
    in_process = experiment.compare(runs_of(cfg, kinds), task, tmp_path / "here", {})
    figures = lambda c: {k: v for k, v in c.metrics.items() if "/time/" not in k}
    assert figures(in_workers) == figures(in_process)  # every weight, loss and quality figure to the last bit
    assert in_workers.metrics["wgan_gp/time/reused"] == 0.0  # trained ahead is not "reused" by its first comparison


@dataclass
class FailsInWorkers(experiment.PointTask):
    parent: int = 0

    def callbacks(self, seed):
        if os.getpid() != self.parent:
            raise RuntimeError("trouble in a worker")
        return super().callbacks(seed)


def test_a_run_whose_worker_fails_is_left_to_train_in_process():
    cfg = points_config()
    base = task_of(cfg)
    task, trained = FailsInWorkers(base.data, base.eval_samples, parent=os.getpid()), {}
    assert experiment.train_ahead(ahead(cfg, task, ("wgan-clip", "wgan-gp")), jobs=2, trained=trained) == 0
    assert trained == {}
    result, _, reused = experiment.train_once(runs_of(cfg, ("wgan-gp",))["wgan_gp"], task, trained)
    assert not reused and result.state.step == cfg.gan.train.steps


@pytest.mark.parametrize("jobs", [1, 4])
def test_one_job_or_one_run_trains_nothing_ahead(jobs):
    cfg = points_config()
    kinds = ("wgan-gp",) if jobs > 1 else ("wgan-clip", "wgan-gp")
    trained = {}
    assert experiment.train_ahead(ahead(cfg, task_of(cfg), kinds), jobs=jobs, trained=trained) == 0
    assert trained == {}
