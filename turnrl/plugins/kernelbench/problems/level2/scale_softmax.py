import torch
import torch.nn as nn


class Model(nn.Module):
    """Scale then softmax over the last dimension (attention-score normalisation)."""

    def __init__(self, scale: float):
        super().__init__()
        self.scale = scale

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.softmax(x * self.scale, dim=-1)


batch_size = 4096
dim = 4096
scale = 0.125


def get_inputs():
    x = torch.randn(batch_size, dim)
    return [x]


def get_init_inputs():
    return [scale]
