"""Training crops and evaluation views, drawn on the photos' device.

`CropSampler` draws random crops (resized to the model's resolution, randomly flipped) from uint8
photos, so no host-device copy happens per batch; `test_views` gives the deterministic evaluation
views and `view_names` their names, in the same order.
"""

import math

import torch


def to_float(images: torch.Tensor) -> torch.Tensor:
    return images.float().div_(255.0)


def _resize_boxes(images: torch.Tensor, boxes: torch.Tensor, resolution: int) -> torch.Tensor:
    """Crop boxes (K, 5: image index, x0, y0, x1, y1) from float images, each resized to resolution².

    roi_align averages ceil(box/resolution)² samples per output pixel, i.e. it box-filters when
    shrinking, so downscaled crops do not alias.
    """
    # Imported at first use: torchvision's import takes a second (it loads torch._dynamo), which a
    # notebook that only reloads trained runs need not pay.
    from torchvision.ops import roi_align

    return roi_align(images, boxes, output_size=resolution, spatial_scale=1.0, sampling_ratio=-1, aligned=True)


class CropSampler:
    """Random training crops from uint8 photos on any device, drawn with a seeded CPU generator.

    Each epoch is a reproducible function of (seed, epoch): crop side uniform in
    [crop_scale * S, S], position uniform, horizontal flip with probability 1/2.
    """

    def __init__(self, images: torch.Tensor, resolution: int, crop_scale: float, samples_per_epoch: int, seed: int):
        self.images, self.resolution, self.crop_scale, self.seed = images, resolution, crop_scale, seed
        self.samples_per_epoch = samples_per_epoch or len(images)

    def steps(self, batch_size: int) -> int:
        return math.ceil(self.samples_per_epoch / batch_size)

    def epoch(self, epoch: int, batch_size: int):
        """Yield float RGB batches (B, 3, r, r) in [0, 1] on the images' device."""
        g = torch.Generator().manual_seed(self.seed * 100_003 + epoch)
        n, size = len(self.images), self.images.shape[-1]
        total = self.samples_per_epoch
        # One pass over the photos in random order when samples_per_epoch is 0, else draws with replacement.
        order = torch.randperm(n, generator=g) if total == n else torch.randint(n, (total,), generator=g)
        lo = max(1, int(round(self.crop_scale * size)))
        sides = torch.randint(lo, size + 1, (total,), generator=g).float()
        x0 = torch.rand(total, generator=g) * (size - sides)
        y0 = torch.rand(total, generator=g) * (size - sides)
        flips = torch.rand(total, generator=g) < 0.5
        # Drawn on the CPU (the same numbers on every device), moved to the device once per epoch:
        # per-batch copies would make every step wait for the GPU.
        dev = self.images.device
        order, flips = order.to(dev), flips.to(dev).view(-1, 1, 1, 1)
        corners = torch.stack([x0, y0, x0 + sides, y0 + sides], dim=1).to(dev)
        for start in range(0, total, batch_size):
            sl = slice(start, start + batch_size)
            batch = to_float(self.images[order[sl]])
            if lo == size == self.resolution:
                out = batch  # whole photos at the training resolution: nothing to resample
            else:
                rows = torch.arange(len(batch), dtype=torch.float32, device=dev).unsqueeze(1)
                out = _resize_boxes(batch, torch.cat([rows, corners[sl]], dim=1), self.resolution)
            flip = flips[sl]
            yield torch.where(flip, out.flip(-1), out)


def test_views(images: torch.Tensor, resolution: int, views: int) -> torch.Tensor:
    """Deterministic evaluation views (N * views, 3, r, r), float in [0, 1]: the whole photo and,
    with views = 5, its four corner quarters at half size, each resized to the resolution."""
    n, size = len(images), images.shape[-1]
    boxes = [(i, 0, 0, size, size) for i in range(n)]
    if views == 5:
        h = size / 2
        boxes += [(i, x, y, x + h, y + h) for i in range(n) for x in (0, h) for y in (0, h)]
        boxes.sort(key=lambda b: b[0])
    b = torch.tensor(boxes, dtype=torch.float32, device=images.device)
    return _resize_boxes(to_float(images), b, resolution)


def view_names(names: list[str], views: int) -> list[str]:
    """Names of `test_views`' views, in their order: `photo:whole`, then `photo:top-left` ... per photo."""
    suffix = ["whole"] + ["top-left", "bottom-left", "top-right", "bottom-right"]
    return [f"{n}:{suffix[v]}" for n in names for v in range(views)]
