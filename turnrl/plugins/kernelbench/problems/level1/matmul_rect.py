import torch
import torch.nn as nn


class Model(nn.Module):
    """Rectangular matrix multiplication (M, K) @ (K, N)."""

    def __init__(self):
        super().__init__()

    def forward(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        return torch.matmul(a, b)


m = 1024
k = 4096
n = 2048


def get_inputs():
    a = torch.randn(m, k)
    b = torch.randn(k, n)
    return [a, b]


def get_init_inputs():
    return []
