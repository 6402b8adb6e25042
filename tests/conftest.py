import os
import tempfile

os.environ.setdefault("MPLBACKEND", "Agg")
# Caches and checkpoints that tests make go to a throw-away folder, not the project's data/.
# Set before any test imports colorize_lib.paths, which reads it once.
os.environ.setdefault("COLORIZE_DATA_DIR", tempfile.mkdtemp(prefix="colorize-test-data-"))
# Tables and figures that library calls write (study.*, reports.save_table) go to a throw-away folder too.
os.environ.setdefault("COLORIZE_REPORTS_DIR", tempfile.mkdtemp(prefix="colorize-test-reports-"))
