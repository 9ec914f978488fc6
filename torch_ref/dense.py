"""CourseLinear: the dense layer, an nn.Linear multiplying in the course's orientation."""

import torch
from torch import nn


class CourseLinear(nn.Linear):
    """nn.Linear (the same weight, bias, hooks and autograd) computing A W^T + b as (W A^T + b)^T: W (n[l], n[l-1])
    times the examples as columns, the course's orientation. The (m, n[l]) rows it returns are a view of that
    product, so the next layer's A^T is contiguous.

    Why: with this project's CPU wheel (MKL), a float64 training step of benchmarks/steps.py's networks takes
    0.74x (12288,20,7,5,1) to 0.97x (1024,1024,1024,1) of the same step through nn.Linear's own forward; float32
    is within noise of it."""

    def forward(self, a: torch.Tensor) -> torch.Tensor:
        return torch.addmm(self.bias.unsqueeze(1), self.weight, a.t()).t()
