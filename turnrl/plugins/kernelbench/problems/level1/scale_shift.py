import torch
import torch.nn as nn


class Model(nn.Module):
    """Computes alpha * x + beta elementwise."""

    def __init__(self, alpha: float = 2.0, beta: float = -0.5):
        super().__init__()
        self.alpha = alpha
        self.beta = beta

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.alpha + self.beta


batch_size = 4096
dim = 4096


def get_inputs():
    x = torch.randn(batch_size, dim)
    return [x]


def get_init_inputs():
    return [1.7, 0.3]
