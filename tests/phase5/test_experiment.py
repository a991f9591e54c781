"""nba_ml.phase5.experiment: the run both plugins share is trained once per process."""

def test_the_main_job_trains_a_run_both_plugins_share_once(tmp_path, monkeypatch):
    from nba_ml.phase5 import experiment
    from nba_ml.phase5.plugin import PluginConfig, make_task

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
