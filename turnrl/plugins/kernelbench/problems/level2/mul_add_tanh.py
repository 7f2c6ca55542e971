import torch
import torch.nn as nn


class Model(nn.Module):
    """Elementwise chain tanh(x * y + z) over three tensors."""

    def __init__(self):
        super().__init__()

    def forward(self, x: torch.Tensor, y: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        return torch.tanh(x * y + z)


batch_size = 4096
dim = 4096


def get_inputs():
    x = torch.randn(batch_size, dim)
    y = torch.randn(batch_size, dim)
    z = torch.randn(batch_size, dim)
    return [x, y, z]


def get_init_inputs():
    return []
