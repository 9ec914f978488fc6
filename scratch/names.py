"""A small corpus of invented dinosaur-like names for the character-level language model, and its loader.

The course trains on a list of real dinosaur names; this project ships its own instead: names made up from
syllables and a dinosaur-like ending ("tro" + "ke" + "raptor"), drawn with a fixed seed. The shipped file,
data/names.txt, is exactly `generate_names()`'s output, one lowercase name a line and nothing else, so the
course's own loading code (read the file, lower-case it, sorted(set(...))) gives the same 27-character
vocabulary as the loader here. Regenerate it with `python -m scratch.names`.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

NAMES_PATH = Path(__file__).resolve().parent / "data" / "names.txt"
NAMES_SEED = 3
NAMES_COUNT = 400

ONSETS = ("b", "br", "c", "ch", "d", "dr", "f", "g", "gr", "h", "j", "k", "kr", "l", "m", "n", "p", "pr", "qu",
          "r", "s", "st", "t", "th", "tr", "v", "w", "x", "z", "")  # fmt: skip
VOWELS = ("a", "a", "e", "i", "o", "o", "u", "y", "ae", "ia", "eo", "ou")
CODAS = ("", "", "", "", "n", "r", "s", "l", "x", "m", "k")
ENDINGS = ("saurus", "don", "odon", "ops", "tops", "ceratops", "raptor", "mimus", "nyx", "venator", "suchus",
           "pteryx", "lophus", "titan", "ykus", "zaurus", "ceps", "wyvern", "gnathus", "dactyl")  # fmt: skip


def _pick(rng: np.random.Generator, options: tuple[str, ...]) -> str:
    """One of `options`, uniformly, from rng.random() alone (the generator's most stable draw)."""
    return options[int(rng.random() * len(options))]


def generate_names(count: int = NAMES_COUNT, seed: int = NAMES_SEED) -> list[str]:
    """`count` distinct names, in the order first drawn: one to three syllables (onset, vowel, coda) and an ending."""
    rng = np.random.default_rng(seed)
    names: list[str] = []
    seen: set[str] = set()
    while len(names) < count:
        syllables = 1 + int(rng.random() * 3)
        stem = "".join(_pick(rng, ONSETS) + _pick(rng, VOWELS) + _pick(rng, CODAS) for _ in range(syllables))
        name = stem + _pick(rng, ENDINGS)
        if name not in seen:
            seen.add(name)
            names.append(name)
    return names


def load_names(path: str | Path = NAMES_PATH) -> tuple[list[str], dict[str, int], dict[int, str]]:
    """(data_x, char_to_ix, ix_to_char) as the course builds them: the names, one a line, lower-cased; the
    vocabulary is the sorted set of the file's characters, "\\n" included, so "\\n" is index 0 and a-z follow."""
    text = Path(path).read_text(encoding="utf-8").lower()
    data_x = [line.strip() for line in text.splitlines() if line.strip()]
    if not data_x:
        raise ValueError(f"{path} holds no names: expected one name a line")
    chars = sorted(set(text) | {"\n"})
    char_to_ix = {ch: i for i, ch in enumerate(chars)}
    ix_to_char = {i: ch for i, ch in enumerate(chars)}
    return data_x, char_to_ix, ix_to_char


def write_names(path: str | Path = NAMES_PATH) -> None:
    """Write generate_names() to `path`, one name a line (how data/names.txt was made)."""
    Path(path).write_text("".join(name + "\n" for name in generate_names()), encoding="utf-8")


if __name__ == "__main__":
    write_names()
