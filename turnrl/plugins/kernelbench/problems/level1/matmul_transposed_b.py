import torch
import torch.nn as nn


class Model(nn.Module):
    """Matrix multiplication with a transposed right operand: A @ B.T, B given as (N, K)."""

    def __init__(self):
        super().__init__()

    def forward(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        return torch.matmul(a, b.T)


m = 2048
k = 1024
n = 2048


def get_inputs():
    a = torch.randn(m, k)
    b = torch.randn(n, k)
    return [a, b]


def get_init_inputs():
    return []
