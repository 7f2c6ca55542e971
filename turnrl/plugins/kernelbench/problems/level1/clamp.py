import torch
import torch.nn as nn


class Model(nn.Module):
    """Clamps to [min_value, max_value]."""

    def __init__(self, min_value: float = -0.5, max_value: float = 0.5):
        super().__init__()
        self.min_value = min_value
        self.max_value = max_value

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.clamp(x, min=self.min_value, max=self.max_value)


batch_size = 4096
dim = 4096


def get_inputs():
    x = torch.randn(batch_size, dim)
    return [x]


def get_init_inputs():
    return [-0.7, 0.4]
