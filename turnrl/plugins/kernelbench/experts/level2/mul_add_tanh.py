import torch
import torch.nn as nn
import triton
import triton.language as tl


@triton.jit
def mul_add_tanh_kernel(x_ptr, y_ptr, z_ptr, out_ptr, n_elements, BLOCK_SIZE: tl.constexpr):
    # three reads and one write instead of eager's three kernels and two temporaries
    offsets = tl.program_id(0) * BLOCK_SIZE + tl.arange(0, BLOCK_SIZE)
    mask = offsets < n_elements
    x = tl.load(x_ptr + offsets, mask=mask)
    y = tl.load(y_ptr + offsets, mask=mask)
    z = tl.load(z_ptr + offsets, mask=mask)
    t = x * y + z
    tl.store(out_ptr + offsets, 2.0 / (1.0 + tl.exp(-2.0 * t)) - 1.0, mask=mask)


class ModelNew(nn.Module):
    def __init__(self):
        super().__init__()

    def forward(self, x: torch.Tensor, y: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        x = x.contiguous()
        y = y.contiguous()
        z = z.contiguous()
        out = torch.empty_like(x)
        n = x.numel()
        block = 1024
        grid = (triton.cdiv(n, block),)
        mul_add_tanh_kernel[grid](x, y, z, out, n, BLOCK_SIZE=block)
        return out
