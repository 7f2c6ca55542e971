import torch
import torch.nn as nn


class Model(nn.Module):
    """diag(a) @ B: scales each row of B by the matching entry of a."""

    def __init__(self):
        super().__init__()

    def forward(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        return torch.diag(a) @ b


n = 4096
m = 4096


def get_inputs():
    a = torch.randn(n)
    b = torch.randn(n, m)
    return [a, b]


def get_init_inputs():
    return []
