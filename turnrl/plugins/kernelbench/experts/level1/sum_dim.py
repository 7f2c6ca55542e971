import torch
import torch.nn as nn
import triton
import triton.language as tl


@triton.jit
def sum_dim_kernel(x_ptr, out_ptr, R, INNER, BLOCK_R: tl.constexpr, BLOCK_I: tl.constexpr):
    # x viewed as (outer, R, INNER): program (o, j) reduces R for a block of inner columns
    outer = tl.program_id(0)
    cols = tl.program_id(1) * BLOCK_I + tl.arange(0, BLOCK_I)
    col_mask = cols < INNER
    base = x_ptr + outer * R * INNER
    acc = tl.zeros((BLOCK_I,), dtype=tl.float32)
    for r0 in range(0, R, BLOCK_R):
        rows = r0 + tl.arange(0, BLOCK_R)
        mask = (rows[:, None] < R) & col_mask[None, :]
        x = tl.load(base + rows[:, None] * INNER + cols[None, :], mask=mask, other=0.0)
        acc += tl.sum(x, axis=0)
    tl.store(out_ptr + outer * INNER + cols, acc, mask=col_mask)


class ModelNew(nn.Module):
    def __init__(self, dim: int):
        super().__init__()
        self.dim = dim

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.contiguous()
        dim = self.dim % x.dim()
        outer = 1
        for size in x.shape[:dim]:
            outer *= size
        inner = 1
        for size in x.shape[dim + 1:]:
            inner *= size
        shape = list(x.shape)
        shape[dim] = 1
        out = torch.empty(shape, dtype=x.dtype, device=x.device)
        block_i = 128
        grid = (outer, triton.cdiv(inner, block_i))
        sum_dim_kernel[grid](x, out, x.shape[dim], inner, BLOCK_R=32, BLOCK_I=block_i)
        return out
