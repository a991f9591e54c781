"""nba_ml.gan.export: a saved generator, and its model.yaml checked field by field when it is read back."""
import pytest
import torch
import yaml

from nba_ml.errors import ModelFileError
from nba_ml.gan.config import validate_config
from nba_ml.gan.export import export_generator, load_export
from nba_ml.gan.networks import build_generator

CFG = validate_config({"model": {"data_shape": [2], "hidden_dim": 4, "depth": 1, "latent_dim": 2}})


@pytest.fixture
def model(tmp_path):
    return export_generator(tmp_path / "model", CFG, build_generator(CFG), {"kind": "points", "note": {"a": [1, 2]}})


def rewrite(model, change):
    document = yaml.safe_load((model / "model.yaml").read_text())
    change(document)
    (model / "model.yaml").write_text(yaml.safe_dump(document))


def test_a_saved_generator_loads_with_its_config_and_the_rest_of_model_yaml(model):
    cfg, generator, meta = load_export(model)
    assert cfg == CFG and not generator.training
    assert meta == {"format": 1, "kind": "points", "note": {"a": [1, 2]}}  # the kind's own fields, as written
    saved = torch.load(model / "generator.pt", weights_only=True)
    assert all(torch.equal(generator.state_dict()[k], saved[k]) for k in saved)


@pytest.mark.parametrize("change, message", [
    (lambda d: d.pop("kind"), r"model.yaml: invalid model file: kind: Field required$"),
    (lambda d: d.update(kind=""), r"model.yaml: invalid model file: kind: String should have at least 1 character \(got ''\)$"),
    (lambda d: d.update(kind=3), r"model.yaml: invalid model file: kind: Input should be a valid string \(got 3\)$"),
    (lambda d: d.pop("gan"), r"model.yaml: invalid model file: gan: Field required$"),
    (lambda d: d["gan"]["train"].update(steps=-1), r"model.yaml: invalid model file: gan.train.steps: Input should be greater than 0 \(got -1\)$"),
    (lambda d: d["gan"]["model"].update(depth="deep"), r"gan.model.depth: Input should be a valid integer"),
    (lambda d: d["gan"]["model"].update(data_shape=None), r"model.yaml: invalid model file: gan.model.data_shape: missing"),
    (lambda d: d.update(format=2), r"model.yaml: not a saved model of format 1 \(format: 2\)$"),
    (lambda d: d.update(format=True), r"not a saved model of format 1 \(format: True\)$"),
    (lambda d: d.update({7: "x"}), r"model.yaml: keys must be names, got \[7\]$"),
])
def test_a_bad_field_of_model_yaml_is_one_line_naming_the_file_and_field(model, change, message):
    rewrite(model, change)
    with pytest.raises(ModelFileError, match=message) as raised:
        load_export(model)
    assert "\n" not in str(raised.value) and str(model / "model.yaml") in str(raised.value)


@pytest.mark.parametrize("text, message", [
    ("format: 1\ngan: [unclosed\n", r"model.yaml is not valid YAML \(line 3, column 1: expected ',' or '\]'"),
    ("[1, 2]\n", r"model.yaml: not a saved model: expected a mapping with format, kind and gan, got list"),
    ("", r"model.yaml: not a saved model: expected a mapping with format, kind and gan, got NoneType"),
])
def test_a_model_yaml_that_is_no_mapping_is_one_line(model, text, message):
    (model / "model.yaml").write_text(text)
    with pytest.raises(ModelFileError, match=message):
        load_export(model)


def test_a_config_asking_for_another_network_is_refused_before_building_it(model, monkeypatch):
    """A model.yaml asking for a huge generator is found out on shapes alone: nothing of that size is allocated."""
    from nba_ml.gan import export

    rewrite(model, lambda d: d["gan"]["model"].update(hidden_dim=16384, depth=16))
    devices, build = [], export.build_generator
    monkeypatch.setattr(export, "build_generator", lambda cfg: (devices.append(torch.get_default_device().type), build(cfg))[1])
    with pytest.raises(ModelFileError, match=r"generator.pt does not hold the generator described in model.yaml: missing \["):
        load_export(model)
    assert devices == ["meta"]  # built on shapes only: 16 layers of 16384 x 16384 floats were never allocated
    rewrite(model, lambda d: d["gan"]["model"].update(hidden_dim=8, depth=1))
    with pytest.raises(ModelFileError, match=r"shapes differ: net.0.weight \(4, 2\) \(the config builds \(8, 2\)\)"):
        load_export(model)


def test_the_saved_tensors_become_the_weights_once_in_the_networks_dtype(model):
    """The generator is built on shapes alone and the saved tensors assigned: nothing initialised twice; weights
    saved in another float dtype are cast to the network's, so sampling works as before."""
    saved = torch.load(model / "generator.pt", weights_only=True)
    torch.save({key: value.double() for key, value in saved.items()}, model / "generator.pt")
    _, generator, _ = load_export(model)
    assert all(not t.is_meta and t.dtype == torch.float32 for t in generator.state_dict().values())
    assert all(torch.equal(generator.state_dict()[k], saved[k]) for k in saved)
    assert generator.sample(3, seed=0).shape == (3, 2)


def test_a_conditioned_generator_loads_without_running_any_initialiser(tmp_path):
    """Built on shapes only, with torch.nn.init skipped: torch's meta normal_ (the label embedding's init)
    would import torch._dynamo, about 1.7 s of every command that loads a model. In a fresh process, so that
    nothing imported it before."""
    import subprocess
    import sys

    cfg = validate_config({"model": {"data_shape": [2], "hidden_dim": 4, "depth": 1, "latent_dim": 2, "num_classes": 3}})
    generator = build_generator(cfg)
    export_generator(tmp_path / "model", cfg, generator, {"kind": "points"})
    script = ("import sys, torch; from nba_ml.gan.export import load_export; _, g, _ = load_export(sys.argv[1]); "
              "print('torch._dynamo' in sys.modules, g.embed.weight.device, torch.get_default_device())")
    done = subprocess.run([sys.executable, "-c", script, str(tmp_path / "model")], capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["False", "cpu", "cpu"]
    _, loaded, _ = load_export(tmp_path / "model")
    assert all(torch.equal(loaded.state_dict()[k], v) for k, v in generator.state_dict().items())
