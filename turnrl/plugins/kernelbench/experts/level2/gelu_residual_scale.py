import torch
import torch.nn as nn
import triton
import triton.language as tl


@triton.jit
def gelu_residual_scale_kernel(x_ptr, res_ptr, out_ptr, n_elements, scale,
                               BLOCK_SIZE: tl.constexpr):
    offsets = tl.program_id(0) * BLOCK_SIZE + tl.arange(0, BLOCK_SIZE)
    mask = offsets < n_elements
    x = tl.load(x_ptr + offsets, mask=mask)
    r = tl.load(res_ptr + offsets, mask=mask)
    gelu = 0.5 * x * (1.0 + tl.math.erf(x * 0.7071067811865476))
    tl.store(out_ptr + offsets, (gelu + r) * scale, mask=mask)


class ModelNew(nn.Module):
    def __init__(self, scale: float):
        super().__init__()
        self.scale = scale

    def forward(self, x: torch.Tensor, residual: torch.Tensor) -> torch.Tensor:
        x = x.contiguous()
        residual = residual.contiguous()
        out = torch.empty_like(x)
        n = x.numel()
        block = 1024
        grid = (triton.cdiv(n, block),)
        gelu_residual_scale_kernel[grid](x, residual, out, n, self.scale, BLOCK_SIZE=block)
        return out
