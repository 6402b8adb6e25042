"""Shared library of the colorization study: data, models, training, evaluation, reports.

Nothing runs at import time; notebooks call `engine.device.setup()` explicitly.
"""

__version__ = "0.1.0"
