"""The training budget (notebook 06): Table 1's 96² models under the paper's stated budget, a longer one and
the published learning rate, with the authors' own recipe on STL-10 where it has run; the budget's
verdicts and the explanations of the gap between Table 1 and the appendix."""

from dataclasses import dataclass

import pandas as pd

from .data import load_images
from .data.cache import ImageSet
from .engine.config import authors_arm_configs, budget_configs, training_seeds
from .engine.train import finished_run_dir, fit, load_run
from .plots import plot_curves, save_figure
from .reference import AUTHORS_ARM, PAPER_ALPHA_PSNR, PAPER_PSNR, PAPER_STEPS
from .reports import save_config, save_table
from .scoring import budget as judged
from .scoring.claims import family_note
from .scoring.evaluate import budget_row, evaluate


@dataclass
class Budget:
    """The training-budget experiment: its table, each run's history (keyed 'model, arm') and per-view
    scores (keyed (model, arm), as `scoring.budget.budget_verdicts` reads them)."""

    table: pd.DataFrame
    histories: dict[str, pd.DataFrame]
    per_image: dict[tuple[str, str], pd.DataFrame]


def run(
    notebook: str, profile: str, data: str, images: ImageSet, seeds: int | list[int] | None = None, **overrides
) -> Budget:
    """Table 1's 96² models under each arm of `config.BUDGET_ARMS` (the stated 240 steps, a longer
    budget, the published lr), each with its training seeds (`training_seeds`): trained or reloaded,
    scored, saved as `<notebook>`, its history (first seed) and the per-view scores of every seed
    (`<notebook>_per_image`, columns model and arm). The authors' arm (`experiments.AUTHORS_ARM`) joins,
    scored on STL-10's test photos, where its runs exist."""
    rows, histories, per_image = [], {}, {}
    for arm, config in budget_configs(profile, data, **overrides):
        runs = [fit(config.replace(seed=s), images) for s in training_seeds(config, seeds)]
        per_seed = [evaluate(r, images) for r in runs]
        run, scores = runs[0], pd.concat(per_seed, ignore_index=True)
        per_image[config.model, arm] = scores
        rows.append(dict(budget_row(run, scores, arm), data=data, n_seeds=len(runs)))
        histories[f"{config.model}, {arm}"] = run.history
        save_config(config)
    authors = [(c, finished_run_dir(c)) for c in authors_arm_configs(overrides.get("seed", 0))]
    for config, run_dir in authors:
        if run_dir is None:
            continue
        run = load_run(run_dir, overrides.get("device", "auto"))
        scores = per_image[config.model, AUTHORS_ARM] = evaluate(run, load_images(run.config))
        rows.append(dict(budget_row(run, scores, AUTHORS_ARM), data=run.config.data))
        histories[f"{config.model}, {AUTHORS_ARM}"] = run.history
    missing = [c.name for c, run_dir in authors if run_dir is None]
    if missing:
        print(
            f"{AUTHORS_ARM}: no finished run of {', '.join(missing)}; `make reproduce PROFILE=authors DATA=stl10` "
            "trains them (GPU work, docs/profiles.md), and this section reads them."
        )
    table = pd.DataFrame(rows)
    save_table(table, notebook)
    save_table(pd.concat([h.assign(run=name) for name, h in histories.items()]), f"{notebook}_history")
    save_table(
        pd.concat([t.assign(model=m, arm=a) for (m, a), t in per_image.items()], ignore_index=True),
        f"{notebook}_per_image",
    )
    return Budget(table, histories, per_image)


def curves(name: str, budget: Budget):
    """PSNR against Adam steps in both forms (mean of per-image PSNR; PSNR of the pooled MSE), gray dashed,
    the paper's Table 1 and appendix figures dotted, the stated 240 steps as a vertical line; saved."""
    fig = plot_curves(
        budget.histories,
        ["test_psnr", "test_psnr_pooled"],
        ["mean of per-image PSNR (dB)", "PSNR of the pooled MSE (dB)"],
        x="steps",
        reference={
            "test_psnr": budget.table["gray_psnr_db"].iloc[0],
            "test_psnr_pooled": budget.table["gray_psnr_pooled_db"].iloc[0],
        },
        marks={
            "paper Table 1, baseline": PAPER_PSNR["baseline"],
            "paper Table 1, U-Net RGB": PAPER_PSNR["unet_rgb"],
            "paper appendix, U-Net RGB": PAPER_ALPHA_PSNR[0.7],
        },
    )
    fig.axes[0].axvline(PAPER_STEPS, color="k", lw=0.8)
    save_figure(fig, name)
    return fig


def verdicts(notebook: str, budget: Budget, profile: str, data: str) -> pd.DataFrame:
    """The budget's claims judged (`scoring.budget.budget_verdicts`) in one family with the gap explanations that
    follow them, saved as `<notebook>_verdicts`."""
    others = judged.gap_tests(budget.per_image)
    verdicts = judged.budget_verdicts(budget.per_image, data, profile, other_tests=others)
    print(family_note(verdicts))
    save_table(verdicts, f"{notebook}_verdicts")
    return verdicts


def explanations(notebook: str, budget: Budget, verdicts: pd.DataFrame) -> pd.DataFrame:
    """Which of the three explanations of the gap between Table 1's U-Net RGB and the appendix the numbers
    support (`scoring.budget.explain_gap`), at the level of the verdicts' family, saved as `<notebook>_explanations`."""
    table = judged.explain_gap(budget.per_image, verdicts, level=verdicts.attrs.get("level"))
    save_table(table, f"{notebook}_explanations")
    return table
