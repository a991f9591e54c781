"""What the player-level tests share: a tiny shot-chart model trained once on the synthetic league."""
import pytest

from nba_ml.shots.synthetic import synthetic_league
from nba_ml.shots.training import train_shot_model

TINY = {"charts": {"grid": 16, "min_shots": 50}, "basis": 4, "shots_per_chart": 50,
        "gan": {"model": {"kind": "mlp", "num_classes": 3, "output": "density", "hidden_dim": 16, "depth": 1,
                          "latent_dim": 8}, "train": {"steps": 20, "batch_size": 16, "log_every": 10}}}


@pytest.fixture(scope="session")
def model():
    """The tiny config trained 20 steps on 30 synthetic players (with its make model)."""
    trained, _, _ = train_shot_model(TINY, synthetic_league(30, 120, seed=0))
    return trained
