import torch
import torch.nn as nn
import torch.nn.functional as F


class Model(nn.Module):
    """Applies HardSigmoid: relu6(x + 3) / 6."""

    def __init__(self):
        super().__init__()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.hardsigmoid(x)


batch_size = 4096
dim = 4096


def get_inputs():
    x = torch.randn(batch_size, dim)
    return [x]


def get_init_inputs():
    return []
