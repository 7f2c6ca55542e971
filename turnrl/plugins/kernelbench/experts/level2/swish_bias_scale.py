import torch
import torch.nn as nn
import triton
import triton.language as tl


@triton.jit
def swish_bias_scale_kernel(x_ptr, bias_ptr, out_ptr, n_elements, n_features, scale,
                            BLOCK_SIZE: tl.constexpr):
    offsets = tl.program_id(0) * BLOCK_SIZE + tl.arange(0, BLOCK_SIZE)
    mask = offsets < n_elements
    x = tl.load(x_ptr + offsets, mask=mask)
    bias = tl.load(bias_ptr + offsets % n_features, mask=mask)
    tl.store(out_ptr + offsets, (x / (1.0 + tl.exp(-x)) + bias) * scale, mask=mask)


class ModelNew(nn.Module):
    def __init__(self, features: int, scale: float):
        super().__init__()
        self.bias = nn.Parameter(torch.randn(features))
        self.scale = scale

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.contiguous()
        out = torch.empty_like(x)
        n = x.numel()
        block = 1024
        grid = (triton.cdiv(n, block),)
        swish_bias_scale_kernel[grid](x, self.bias, out, n, x.shape[-1], self.scale,
                                      BLOCK_SIZE=block)
        return out
