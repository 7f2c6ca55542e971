import torch
import torch.nn as nn


class Model(nn.Module):
    """Linear layer, clamp to [lo, hi], then a constant scale."""

    def __init__(self, in_features: int, out_features: int, lo: float = -1.0, hi: float = 1.0,
                 scale: float = 0.5):
        super().__init__()
        self.linear = nn.Linear(in_features, out_features)
        self.lo = lo
        self.hi = hi
        self.scale = scale

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.clamp(self.linear(x), min=self.lo, max=self.hi) * self.scale


batch_size = 1024
in_features = 2048
out_features = 2048


def get_inputs():
    x = torch.randn(batch_size, in_features)
    return [x]


def get_init_inputs():
    return [in_features, out_features, -0.6, 0.8, 3.0]
