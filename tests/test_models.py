import pytest
import torch

from colorize_lib.model.models import count_parameters, get_model, list_models, model_entry
from colorize_lib.reference import PAPER_PARAMS


def test_registry_lists_the_four_models():
    assert list_models() == ["baseline", "unet_classif", "unet_lab", "unet_rgb"]
    with pytest.raises(ValueError, match="unknown model 'vgg'"):
        get_model("vgg")


@pytest.mark.parametrize("name", list_models())
def test_paper_parameter_count_within_5_percent(name):
    model = get_model(name)
    n = count_parameters(model)
    if name == "unet_classif":
        n -= sum(p.numel() for p in model.out.parameters())  # the paper counts the body, head on top
    assert abs(n - PAPER_PARAMS[name]) / PAPER_PARAMS[name] < 0.05, n


@pytest.mark.parametrize("name", list_models())
def test_forward_backward_small(name):
    torch.manual_seed(0)
    model = get_model(name, width=4)
    x = torch.rand(2, 1, 32, 32)
    if model_entry(name).output == "bins":
        assert model(x).shape == (2, 4, 32, 32)  # forward gives the body's features; the task applies the head
        out = model.logits(x)
    else:
        out = model(x)
    channels = {"rgb": 3, "ab": 2, "bins": 676}[model_entry(name).output]
    assert out.shape == (2, channels, 32, 32)
    assert torch.isfinite(out).all()
    if model_entry(name).output == "rgb":
        assert out.min() >= 0 and out.max() <= 1
    if model_entry(name).output == "ab":
        assert out.abs().max() <= 1
    out.float().mean().backward()
    grads = [p.grad for p in model.parameters()]
    assert all(g is not None and torch.isfinite(g).all() for g in grads)


def test_classifier_head_follows_bin_count():
    model = get_model("unet_classif", width=4, n_bins=324)
    assert model.logits(torch.rand(1, 1, 32, 32)).shape[1] == 324
    assert list(model.state_dict())[-2:] == ["out.weight", "out.bias"]  # checkpoints keep their keys


@pytest.mark.parametrize("experiment", ["baseline", "unet_rgb"])
def test_the_authors_profile_builds_the_published_notebooks_models(experiment):
    # CNN_U_net_W.ipynb (the authors' repository, linked from the paper's abstract): a 4.34M baseline and a
    # 25.8M U-Net with five resolutions (96 down to 6).
    from colorize_lib.engine.config import make_config
    from colorize_lib.reference import AUTHORS_NOTEBOOK_PARAMS

    config = make_config(experiment, "authors", "stl10")
    model = get_model(config.model, width=config.width, **({"levels": config.levels} if config.levels else {}))
    n = count_parameters(model)
    assert abs(n - AUTHORS_NOTEBOOK_PARAMS[experiment]) / AUTHORS_NOTEBOOK_PARAMS[experiment] < 0.05, n
    if experiment == "unet_rgb":
        assert len(model.downs) == 4  # 96 -> 48 -> 24 -> 12 -> 6, as the notebook's encoder
        assert n > 5 * PAPER_PARAMS["unet_rgb"]  # not the paper's 4.5M
