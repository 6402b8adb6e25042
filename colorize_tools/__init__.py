"""The tooling around the study: what `make` and CI run (the notebook runner and its time estimates, the
environment check, the HTML rendering, index and browser check of the reports, the diff of two runs).
No notebook imports it, and nothing in `colorize_lib` does: the science package is the method alone."""
