"""Full-batch gradient descent, W[l] -= learning_rate * dW[l], with torch.optim.SGD."""

import numpy as np
import torch

from .layout import data_rows
from .losses import get_loss
from .model import TorchNet


class Trainer:
    """Holds X, Y as device tensors (converted once) and an SGD optimizer over the model."""

    def __init__(
        self,
        model: TorchNet,
        X: np.ndarray,
        Y: np.ndarray,
        loss: str = "bce",
        learning_rate: float = 0.0075,
    ) -> None:
        self.model = model
        self.loss_fn = get_loss(loss, model.activation_names[-1])
        self.x, self.y = data_rows(model, X, Y)
        self.optimizer = torch.optim.SGD(model.parameters(), lr=learning_rate)

    def step(self) -> float:
        """One update; returns the cost J before it, as the course's loop records it."""
        self.optimizer.zero_grad()
        z = self.model(self.x)
        cost = self.loss_fn(z, self.model.output_activation(z), self.y)
        cost.backward()
        self.optimizer.step()
        # .grad is left as is, so gradients(model) reads this step's dW, db.
        return cost.item()


def train(
    model: TorchNet,
    X: np.ndarray,
    Y: np.ndarray,
    loss: str = "bce",
    learning_rate: float = 0.0075,
    num_iterations: int = 3000,
) -> list[float]:
    """Run `num_iterations` steps in place; return the cost before each update."""
    trainer = Trainer(model, X, Y, loss=loss, learning_rate=learning_rate)
    return [trainer.step() for _ in range(num_iterations)]
