"""GANConfig and load_config: defaults, constraints, and errors that name the field."""
import pytest

from nba_ml.gan import ConfigError, GANConfig, load_config, validate_config


def test_defaults_follow_the_papers():
    cfg = GANConfig()
    assert cfg.loss.kind == "wgan-gp"
    assert cfg.loss.gp_weight == 10.0
    assert cfg.loss.n_critic == 5
    assert cfg.betas == (0.0, 0.9)
    assert validate_config({"loss": {"kind": "gan"}}).betas == (0.5, 0.999)


def test_explicit_betas_win():
    assert validate_config({"optim": {"betas": [0.1, 0.8]}}).betas == (0.1, 0.8)


def test_every_field_has_a_description():
    sections = [GANConfig] + [GANConfig.model_fields[name].annotation for name in ("model", "loss", "optim", "train")]
    for section in sections:
        for name, field in section.model_fields.items():
            assert field.description, f"{section.__name__}.{name} has no description"


@pytest.mark.parametrize("raw,field", [
    ({"loss": {"kind": "wgan-xx"}}, "loss.kind"),
    ({"train": {"batch_size": 0}}, "train.batch_size"),
    ({"train": {"steps": -5}}, "train.steps"),
    ({"loss": {"n_critic": 0}}, "loss.n_critic"),
    ({"optim": {"lr_critic": 0}}, "optim.lr_critic"),
    ({"optim": {"betas": [0.0, 1.5]}}, "optim"),
    ({"model": {"kind": "conv", "data_shape": [1, 12, 12]}}, "model"),
    ({"model": {"kind": "mlp", "data_shape": [1, 8, 8]}}, "model"),
    ({"train": {"bacth_size": 64}}, "train.bacth_size"),
])
def test_bad_values_raise_naming_the_field(raw, field):
    with pytest.raises(ConfigError, match=rf"(?m)^\s+{field}\b"):
        validate_config(raw)


def test_every_bad_field_is_named_at_once():
    with pytest.raises(ConfigError) as info:
        validate_config({"loss": {"kind": "nope"}, "train": {"batch_size": -1}})
    assert "loss.kind" in str(info.value) and "train.batch_size" in str(info.value)


def test_config_error_is_a_value_error():
    assert issubclass(ConfigError, ValueError)


def test_load_config_reads_yaml(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("loss:\n  kind: wgan-clip\ntrain:\n  steps: 7\n")
    cfg = load_config(path)
    assert (cfg.loss.kind, cfg.train.steps) == ("wgan-clip", 7)


@pytest.mark.parametrize("text,message", [
    ("- a\n- b\n", "must hold a YAML mapping"),
    ("loss: [unclosed\n", "not valid YAML"),
    ("!!python/object/apply:os.system ['echo hi']\n", "not valid YAML"),
])
def test_load_config_rejects_non_mappings_and_unsafe_yaml(tmp_path, text, message):
    path = tmp_path / "c.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=message):
        load_config(path)


def test_load_config_missing_file(tmp_path):
    with pytest.raises(ConfigError, match="cannot read config file"):
        load_config(tmp_path / "absent.yaml")


def test_empty_yaml_gives_defaults(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("")
    assert load_config(path) == GANConfig()
