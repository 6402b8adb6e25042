"""A test hook, kept out of the library: with COLORIZE_STEP_DELAY_S set and this folder on PYTHONPATH (as
`scenarios.slowed` sets both), every optimiser step of every process sleeps that long, so that a test's
Ctrl-C or kill lands mid-epoch; with COLORIZE_STEP_GATE naming a file, every step waits while it exists.
Python imports `sitecustomize` at start-up; the hook is registered when torch.optim is first imported
(torch's global optimizer step hook), so processes that never import torch pay nothing."""

import importlib.abc
import importlib.util
import os
import sys
import time

DELAY_S = float(os.environ.get("COLORIZE_STEP_DELAY_S") or 0)
GATE = os.environ.get("COLORIZE_STEP_GATE")  # a file: while it exists, every step waits (a test holds a run)


def _after_step(*args, **kwargs):
    time.sleep(DELAY_S)
    while GATE and os.path.exists(GATE):
        time.sleep(0.05)


class _SleepAfterEveryStep(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name != "torch.optim":
            return None
        sys.meta_path.remove(self)  # find the real module, once
        spec = importlib.util.find_spec(name)
        run = spec.loader.exec_module

        def exec_module(module):
            run(module)
            optimizer = sys.modules["torch.optim.optimizer"]  # the package does not keep it as an attribute
            optimizer.register_optimizer_step_post_hook(_after_step)

        spec.loader.exec_module = exec_module
        return spec


if DELAY_S > 0 or GATE:
    sys.meta_path.insert(0, _SleepAfterEveryStep())
