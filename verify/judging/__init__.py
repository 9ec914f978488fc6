"""Judging: comparisons and the tolerance model, hints that name a slip, consequences of an earlier failure."""
