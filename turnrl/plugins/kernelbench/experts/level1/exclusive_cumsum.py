import torch
import torch.nn as nn
import triton
import triton.language as tl


@triton.jit
def exclusive_cumsum_kernel(x_ptr, out_ptr, n_cols, BLOCK: tl.constexpr):
    # one program per row; the whole row is one tile, scanned in registers
    row = tl.program_id(0)
    cols = tl.arange(0, BLOCK)
    mask = cols < n_cols
    x = tl.load(x_ptr + row * n_cols + cols, mask=mask, other=0.0)
    tl.store(out_ptr + row * n_cols + cols, tl.cumsum(x, axis=0) - x, mask=mask)


class ModelNew(nn.Module):
    def __init__(self, dim: int):
        super().__init__()
        self.dim = dim

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        moved = x.movedim(self.dim, -1).contiguous()
        n_cols = moved.shape[-1]
        rows = moved.numel() // n_cols
        out = torch.empty_like(moved)
        block = triton.next_power_of_2(n_cols)
        exclusive_cumsum_kernel[(rows,)](moved, out, n_cols, BLOCK=block, num_warps=8)
        return out.movedim(-1, self.dim).contiguous()
