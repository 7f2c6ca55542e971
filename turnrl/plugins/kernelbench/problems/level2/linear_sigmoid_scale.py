import torch
import torch.nn as nn


class Model(nn.Module):
    """Linear layer, sigmoid, then a constant scale."""

    def __init__(self, in_features: int, out_features: int, scale: float = 2.0):
        super().__init__()
        self.linear = nn.Linear(in_features, out_features)
        self.scale = scale

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.linear(x)) * self.scale


batch_size = 1024
in_features = 2048
out_features = 2048


def get_inputs():
    x = torch.randn(batch_size, in_features)
    return [x]


def get_init_inputs():
    return [in_features, out_features, 1.5]
