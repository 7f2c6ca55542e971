import torch
import torch.nn as nn
import triton
import triton.language as tl


@triton.jit
def row_scale_kernel(a_ptr, b_ptr, out_ptr, n_elements, n_cols, BLOCK_SIZE: tl.constexpr):
    # diag(a) @ B never builds the N x N diagonal matrix: out[i, j] = a[i] * B[i, j]
    offsets = tl.program_id(0) * BLOCK_SIZE + tl.arange(0, BLOCK_SIZE)
    mask = offsets < n_elements
    scale = tl.load(a_ptr + offsets // n_cols, mask=mask)
    b = tl.load(b_ptr + offsets, mask=mask)
    tl.store(out_ptr + offsets, scale * b, mask=mask)


class ModelNew(nn.Module):
    def __init__(self):
        super().__init__()

    def forward(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        a = a.contiguous()
        b = b.contiguous()
        out = torch.empty_like(b)
        n = b.numel()
        block = 1024
        grid = (triton.cdiv(n, block),)
        row_scale_kernel[grid](a, b, out, n, b.shape[1], BLOCK_SIZE=block)
        return out
