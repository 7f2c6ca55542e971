import torch
import torch.nn as nn
import torch.nn.functional as F


class Model(nn.Module):
    """GELU, residual add, then scale: (gelu(x) + residual) * scale."""

    def __init__(self, scale: float):
        super().__init__()
        self.scale = scale

    def forward(self, x: torch.Tensor, residual: torch.Tensor) -> torch.Tensor:
        return (F.gelu(x) + residual) * self.scale


batch_size = 4096
dim = 4096
scale = 0.5


def get_inputs():
    x = torch.randn(batch_size, dim)
    residual = torch.randn(batch_size, dim)
    return [x, residual]


def get_init_inputs():
    return [scale]
