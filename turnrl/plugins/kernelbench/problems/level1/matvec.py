import torch
import torch.nn as nn


class Model(nn.Module):
    """Matrix-vector product (M, K) @ (K, 1)."""

    def __init__(self):
        super().__init__()

    def forward(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        return torch.matmul(a, b)


m = 8192
k = 8192


def get_inputs():
    a = torch.randn(m, k)
    b = torch.randn(k, 1)
    return [a, b]


def get_init_inputs():
    return []
