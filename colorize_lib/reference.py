"""The paper's numbers, each in one place: its data, its grid, its reported figures. Every table shows
the figures beside ours, and every other module imports them from here."""

# The authors' published data set (paper §4.1; their repository at the commit `sources.paper` pins):
# dataset/train/train_img_*.jpg and dataset/test/val_img_*.jpg.
PAPER_TRAIN_IMAGES = 5882
PAPER_TEST_IMAGES = 1037

# The classes the paper reports for its bin sizes (§5.3); our grid's own counts are `ABGrid(b).n_bins`.
PAPER_N_BINS = {5: 2704, 10: 676, 15: 196}

# The stated 96² recipe: 20 epochs of PAPER_TRAIN_IMAGES at batch 512, ceil(5882 / 512) = 12 steps each
# (§4.2): 240 Adam steps at lr 1e-4.
PAPER_STEPS = 240

# §3: the models' parameter counts (the classifier's: its body, the U-Net LAB's; the bin head comes on top).
PAPER_PARAMS = {"baseline": 4.3e6, "unet_rgb": 4.5e6, "unet_lab": 20.5e6, "unet_classif": 20.5e6}

# Table 1: mean test PSNR (dB) on 1,000 test images, at the paper's resolutions.
PAPER_PSNR = {"baseline": 11.2, "unet_rgb": 13.5, "unet_lab": 19.0, "unet_classif": 18.2}
PAPER_RESOLUTION = {"baseline": 96, "unet_rgb": 96, "unet_lab": 512, "unet_classif": 512}
MODEL_LABELS = {
    "baseline": "CNN baseline",
    "unet_rgb": "U-Net RGB",
    "unet_lab": "U-Net LAB",
    "unet_classif": "U-Net classification",
}

# Appendix A: best-checkpoint test PSNR of U-Net RGB per alpha (alpha = 0.3 is plotted, not reported).
# These disagree by ~9 dB with Table 1's 13.5 dB for the same model at alpha = 0.7.
PAPER_ALPHA_PSNR = {0.0: 22.85, 0.3: None, 0.5: 22.94, 0.7: 22.92, 1.0: 22.89}

# §5.1, §5.3: U-Net RGB's gain over the baseline at 96², "about 2.3 dB" (Table 1: 13.5 against 11.2).
PAPER_SKIP_GAIN_DB = 2.3
# Fig. 1, §5.1: most of the classifier's test images score in this PSNR range (dB).
PAPER_CLASSIF_BAND_DB = (17.0, 21.0)

# Figure 3: validation weighted CE of the classifier settles near this value after ~8 epochs.
PAPER_CLASSIF_VAL_CE = 3.35

# The authors' published notebook (CNN_U_net_W.ipynb in the repository the paper's abstract links):
# parameters of its two models, counted from its layer lists (the paper gives 4.3M and 4.5M).
AUTHORS_NOTEBOOK_PARAMS = {"baseline": 4.34e6, "unet_rgb": 25.8e6}
# STL-10's labelled splits (the notebook trains on `train`, reports on `test`); 96x96 photos.
STL10_TRAIN_IMAGES, STL10_TEST_IMAGES = 5000, 8000
# The training-budget experiment's arm that is the published notebook's own runs on STL-10 (notebook 06).
AUTHORS_ARM = "authors' notebook (STL-10)"
