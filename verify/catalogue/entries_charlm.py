"""The entries of the character-level language model notebook (course 5 week 1, "Dinosaur Island";
impl/charlm.py), in the notebook's order: each function checked on its own against torch_ref.charlm
(checking/unit_charlm.py), its slips named by judging/charlm_hints.py, then optimize run over the first names of
the corpus (checking/charlm_names.py). entries.py places them in the catalogue.

optimize is also week 2's (logistic regression): the entries' families tell them apart, and detection by
optimize's signature (impl/charlm.py). The course's helper file (utils.py: rnn_forward, rnn_backward,
update_parameters, initialize_parameters, ...) is the course's own: those functions are not the learner's, and
not checked on their own (optimize runs them).
"""

from __future__ import annotations

from .types import CourseFunction, one

CHARLM = ("charlm",)

CHARLM_ENTRIES: tuple[CourseFunction, ...] = (
    one(
        "clip",
        CHARLM,
        "update",
        "clip(gradients, maxValue) -> gradients",
        torch="torch_ref.charlm.clip (torch.clamp of each of dWaa, dWax, dWya, db, dby), on gradients beyond "
        "maxValue in several entries of every one",
        slips=("clip_slip",),
        check="unit_charlm",
        required_by=CHARLM,
    ),
    one(
        "sample",
        CHARLM,
        "forward",
        "sample(parameters, char_to_ix, seed) -> indices",
        torch="torch_ref.charlm.sample_distributions (torch's softmax at every step, given the characters drawn), "
        "and scratch.charlm.sample's characters for the same seed (np.random.seed(counter + seed))",
        slips=("distribution_slip", "seeding_slip", "stopping_slip"),
        check="unit_charlm",
        required_by=CHARLM,
    ),
    CourseFunction(
        "optimize",
        CHARLM,
        "update",
        (("", "optimize(X, Y, a_prev, parameters, learning_rate=0.01) -> (loss, gradients, a[len(X) - 1])"),),
        torch="torch_ref.charlm.optimize (nn.RNNCell, the summed cross-entropy, autograd, clamp_ at 5, an SGD "
        "step): the loss, each clipped gradient, a[len(X) - 1] and the parameters it updates in place",
        calls=("clip",),
        slips=("optimize_slip",),
        check="unit_charlm",
        required_by=CHARLM,
    ),
)
