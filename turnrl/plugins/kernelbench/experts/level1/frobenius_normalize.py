import torch
import torch.nn as nn
import triton
import triton.language as tl


@triton.jit
def sum_squares_kernel(x_ptr, total_ptr, n_elements, BLOCK_SIZE: tl.constexpr):
    pid = tl.program_id(0)
    offsets = pid * BLOCK_SIZE + tl.arange(0, BLOCK_SIZE)
    x = tl.load(x_ptr + offsets, mask=offsets < n_elements, other=0.0)
    tl.atomic_add(total_ptr, tl.sum(x * x, axis=0))


@triton.jit
def scale_kernel(x_ptr, total_ptr, out_ptr, n_elements, BLOCK_SIZE: tl.constexpr):
    pid = tl.program_id(0)
    offsets = pid * BLOCK_SIZE + tl.arange(0, BLOCK_SIZE)
    mask = offsets < n_elements
    x = tl.load(x_ptr + offsets, mask=mask)
    inv_norm = 1.0 / tl.sqrt(tl.load(total_ptr))
    tl.store(out_ptr + offsets, x * inv_norm, mask=mask)


class ModelNew(nn.Module):
    def __init__(self):
        super().__init__()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.contiguous()
        n = x.numel()
        total = torch.zeros(1, dtype=torch.float32, device=x.device)
        out = torch.empty_like(x)
        block = 1024
        grid = (triton.cdiv(n, block),)
        sum_squares_kernel[grid](x, total, n, BLOCK_SIZE=block)
        scale_kernel[grid](x, total, out, n, BLOCK_SIZE=block)
        return out
