"""lightly_config with LightlyOne's key names → SSL settings, and one-line errors for bad keys."""

from __future__ import annotations

import os

import pytest

from framesift.config.loader import load_config
from framesift.errors import ConfigError
from framesift.train.settings import COLLATE_DEFAULTS, ssl_settings

SELECT = {"n_samples": 2, "strategies": [{"input": {"type": "EMBEDDINGS"}, "strategy": {"type": "DIVERSITY"}}]}

# LightlyOne's documented default lightly_config, as users paste it into scheduleRun
LIGHTLY_DEFAULTS = {
    "loader": {"batch_size": 16, "shuffle": True, "num_workers": -1, "drop_last": True},
    "model": {"name": "resnet-18", "out_dim": 128, "num_ftrs": 32, "width": 1},
    "trainer": {"gpus": 1, "max_epochs": 100, "precision": 32},
    "criterion": {"temperature": 0.5},
    "optimizer": {"lr": 1, "weight_decay": 0.00001},
    "collate": {"input_size": 64, "cj_prob": 0.8, "cj_bright": 0.7, "cj_contrast": 0.7, "cj_sat": 0.7, "cj_hue": 0.2,
                "min_scale": 0.15, "random_gray_scale": 0.2, "gaussian_blur": 0.5, "kernel_size": 0.1,
                "vf_prob": 0, "hf_prob": 0.5, "rr_prob": 0},
}


def test_lightlyone_default_config_is_read_with_its_meaning():
    config = load_config({"selection_config": SELECT, "worker_config": {"enable_training": True},
                          "lightly_config": LIGHTLY_DEFAULTS})
    s = ssl_settings(config.lightly)
    assert (s.backbone, s.input_size, s.batch_size, s.max_epochs, s.lr, s.weight_decay, s.temperature) == (
        "resnet-18", 64, 16, 100, 1.0, 1e-5, 0.5)
    assert s.num_workers == (os.cpu_count() or 1)  # -1: all cores, as in LightlyOne
    assert not s.pretrained and s.device is None
    assert "kernel_size" not in s.transform and s.transform["hf_prob"] == 0.5


def test_framesift_defaults_fine_tune_efficientnet_at_its_embedding_size():
    s = ssl_settings({})
    assert (s.backbone, s.input_size, s.max_epochs, s.lr, s.momentum, s.max_frames, s.pretrained) == (
        "efficientnet-lite0", 224, 10, 0.001, 0.9, 2000, True)
    assert s.transform == COLLATE_DEFAULTS
    assert ssl_settings({"trainer": {"gpus": 0}}).device == "cpu"
    assert ssl_settings({"seed": 7}).seed == 7
    # what decides the weights: the settings minus epochs/workers/device
    assert ssl_settings({"loader": {"num_workers": 3}}).identity() == s.identity()
    assert ssl_settings({"trainer": {"max_epochs": 3}}).identity() == s.identity()
    assert ssl_settings({"optimizer": {"lr": 0.1}}).identity() != s.identity()


@pytest.mark.parametrize(("section", "message"), [
    ({"trainer": {"max_epoch": 3}}, r"lightly_config\.trainer\.max_epoch: unknown key; did you mean 'max_epochs'\?"),
    ({"loader": {"batch_size": 1}}, r"lightly_config\.loader\.batch_size: 1 must be at least 2"),
    ({"optimizer": {"lr": 0}}, r"lightly_config\.optimizer\.lr: 0 must be above 0"),
    ({"trainer": {"max_epochs": 2.5}}, r"lightly_config\.trainer\.max_epochs: 2\.5 is not an integer"),
    ({"model": {"name": "vit-b16"}}, r"lightly_config\.model\.name: 'vit-b16' is not supported"),
])
def test_bad_values_fail_with_one_line_naming_the_key(section, message):
    with pytest.raises(ConfigError, match=message):
        ssl_settings(section)
