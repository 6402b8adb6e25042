"""The one inference path: batching does not change the result, the output stays on the input's device,
the luminance of the input is kept by the LAB models, and the loss is the mean over the images."""

import pytest
import torch

from colorize_lib.engine.config import make_config
from colorize_lib.engine.inference import eval_batch_size, infer
from colorize_lib.engine.tasks import Task
from colorize_lib.model.color import rgb_to_lab
from colorize_lib.model.metrics import gray_prediction
from colorize_lib.model.models import get_model


def model_and_task(experiment: str):
    config = make_config(experiment, "smoke")
    task = Task(config)
    if task.kind == "bins":
        task.set_frequencies(torch.full((task.grid.n_bins,), 1.0 / task.grid.n_bins))
    torch.manual_seed(0)
    model = get_model(config.model, **task.model_kwargs())
    task.attach(model)
    return config, model.eval(), task


@pytest.fixture(scope="module")
def images():
    return torch.rand(5, 3, 32, 32, generator=torch.Generator().manual_seed(1))


@pytest.mark.parametrize("experiment", ["baseline", "unet_lab", "unet_classif"])
def test_batching_does_not_change_the_colours(experiment, images):
    _, model, task = model_and_task(experiment)
    one = infer(model, task, images, batch_size=5, precision="float32", with_loss=True)
    two = infer(model, task, images, batch_size=2, precision="float32", with_loss=True)
    assert one.rgb.shape == images.shape and one.rgb.device == images.device
    assert torch.allclose(one.rgb, two.rgb, atol=1e-5)
    assert one.loss == pytest.approx(two.loss, rel=1e-5)
    assert 0 <= float(one.rgb.min()) and float(one.rgb.max()) <= 1


def test_a_lab_model_keeps_the_input_luminance(images):
    _, model, task = model_and_task("unet_lab")
    out = infer(model, task, gray_prediction(images), batch_size=4, precision="float32").rgb
    # Gamut clipping after joining L with the predicted AB moves L a little at most.
    assert (rgb_to_lab(out)[:, 0] - rgb_to_lab(images)[:, 0]).abs().mean() < 2.0


def test_without_a_loss_none_is_returned(images):
    config, model, task = model_and_task("baseline")
    assert infer(model, task, images, eval_batch_size(config), precision="bf16").loss is None
    assert eval_batch_size(config) == config.batch_size


def test_bf16_colours_stay_float32_and_close_to_float32(images):
    _, model, task = model_and_task("unet_rgb")
    fast = infer(model, task, images, batch_size=5, precision="bf16").rgb
    exact = infer(model, task, images, batch_size=5, precision="float32").rgb
    assert fast.dtype == torch.float32
    assert not torch.equal(fast, exact)  # bf16 ran: it rounds differently
    assert (fast - exact).abs().max() < 0.05  # to about bf16's 3 significant digits of the activations
