"""The course's planar_utils.py (week 3): its data loading and plotting imports at the top."""

import matplotlib.pyplot as plt
import numpy as np
import sklearn
import sklearn.datasets
import sklearn.linear_model
import scipy.io
from PIL import Image


def sigmoid(x):
    s = 1 / (1 + np.exp(-x))
    return s


def load_extra_datasets():
    noisy_circles = sklearn.datasets.make_circles(n_samples=200, factor=.5, noise=.3)
    return noisy_circles
