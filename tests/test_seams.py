"""The seams between modules: crops are reproducible, views and their names agree, a task decodes its
own targets back to the input, and a classifier can be read out another way."""

import pytest
import torch

from colorize_lib.data import crops
from colorize_lib.data.crops import CropSampler, view_names
from colorize_lib.engine.config import make_config
from colorize_lib.engine.tasks import Task


def photos(n=3, size=32, seed=0):
    return torch.randint(0, 256, (n, 3, size, size), dtype=torch.uint8, generator=torch.Generator().manual_seed(seed))


def test_crops_are_a_function_of_seed_and_epoch():
    images = photos()
    a = list(CropSampler(images, 16, 0.5, 10, seed=3).epoch(2, 4))
    b = list(CropSampler(images, 16, 0.5, 10, seed=3).epoch(2, 4))
    assert [t.shape for t in a] == [(4, 3, 16, 16), (4, 3, 16, 16), (2, 3, 16, 16)]
    assert all(torch.equal(x, y) for x, y in zip(a, b))
    assert not torch.equal(a[0], next(CropSampler(images, 16, 0.5, 10, seed=3).epoch(3, 4)))
    assert not torch.equal(a[0], next(CropSampler(images, 16, 0.5, 10, seed=4).epoch(2, 4)))


def test_view_names_name_the_views_in_their_order():
    # One photo whose quadrants have distinct flat colours: each corner view is that colour alone.
    image = torch.zeros(1, 3, 32, 32, dtype=torch.uint8)
    colours = {
        "top-left": (255, 0, 0),
        "top-right": (0, 255, 0),
        "bottom-left": (0, 0, 255),
        "bottom-right": (255, 255, 0),
    }
    for name, colour in colours.items():
        rows = slice(0, 16) if name.startswith("top") else slice(16, 32)
        cols = slice(0, 16) if name.endswith("left") else slice(16, 32)
        image[0, :, rows, cols] = torch.tensor(colour, dtype=torch.uint8).view(3, 1, 1)
    views = crops.test_views(image, 8, 5)
    names = view_names(["p"], 5)
    assert len(views) == len(names) == 5 and names[0] == "p:whole"
    for view, name in zip(views[1:], names[1:]):
        expected = torch.tensor(colours[name.split(":")[1]], dtype=torch.float32).view(3, 1, 1) / 255
        assert torch.allclose(view[:, 2:-2, 2:-2], expected.expand(3, 4, 4), atol=1e-6), name


@pytest.mark.parametrize("model", ["unet_rgb", "unet_lab"])
def test_a_task_decodes_its_true_target_back_to_the_input(model):
    task = Task(make_config(model, "smoke"))
    rgb = photos(2, 16).float() / 255
    x, target = task.inputs_targets(rgb)
    assert torch.allclose(task.to_rgb(target, x), rgb, atol=2e-3)


@pytest.mark.slow  # trains a classifier
def test_a_classifier_read_out_another_way_shares_its_weights(tmp_path):
    from colorize_lib.data import load_images
    from colorize_lib.engine.train import fit
    from colorize_lib.scoring.evaluate import with_decode

    config = make_config("unet_classif", "smoke", epochs=1)
    run = fit(config, load_images(config), tmp_path, log=lambda *_: None)
    other = with_decode(run, "annealed_mean")
    assert other.model is run.model and other.task.weights is run.task.weights
    assert other.config.decode == "annealed_mean" and run.config.decode == "argmax"
    x = torch.rand(1, 1, 32, 32)
    with torch.no_grad():
        features = run.model(x)
        assert not torch.equal(run.task.to_rgb(features, x), other.task.to_rgb(features, x))
