"""The two reward modes, paid per seat as the game goes (``info["rewards"]``).

* ``sparse`` (TextArena / Kaggle): at the end, +1 to every member of the winning team and -1
  to every loser, dead players included; 0 for everyone in a draw.
* ``shaped`` (LSPO, App. A.3): +300 / -300 to every member of the winning / losing team at the
  end (dead included); +5 to each living player at the end of every day; village voters +20
  for a vote for a Werewolf and -20 for a vote for anyone else (abstaining pays 0); after an
  exile, -10 to the exiled player and, to every other living player, +5 when the exiled was an
  opponent and -5 when a teammate.

Both are computed on every step; the environment's ``reward`` option chooses which one goes to
``info["rewards"]`` (the one the rollout engine credits), the other is kept in the info under
``rewards_<mode>`` for analysis.
"""

from __future__ import annotations

WIN_SHAPED = 300.0
REWARD_MODES: tuple[str, ...] = ("sparse", "shaped")


class Payoffs:
    """The rewards one step pays, per player id, in both modes."""

    __slots__ = ("shaped", "sparse")

    def __init__(self) -> None:
        self.sparse: dict[int, float] = {}
        self.shaped: dict[int, float] = {}

    def shaped_add(self, player: int, value: float) -> None:
        self.shaped[player] = self.shaped.get(player, 0.0) + value

    def outcome(self, player: int, won: bool) -> None:
        self.sparse[player] = 1.0 if won else -1.0
        self.shaped_add(player, WIN_SHAPED if won else -WIN_SHAPED)

    def by_mode(self, mode: str) -> dict[int, float]:
        return self.shaped if mode == "shaped" else self.sparse
