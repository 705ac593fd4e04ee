"""A DistributedSampler that can start part-way through an epoch, for exact resumption.

Same order and sharding as `torch.utils.data.DistributedSampler` (a permutation seeded by seed + epoch,
padded to a multiple of the world size, rank r takes every world-size-th index from r), plus `start`: the
number of this rank's samples to skip, so a resumed run continues with the very next batch.
"""

from __future__ import annotations

import math
from collections.abc import Iterator

import torch
from torch.utils.data import Sampler


class ResumableDistributedSampler(Sampler[int]):
    """Indices of one rank's share of an epoch, from position `start` on."""

    def __init__(self, length: int, *, num_replicas: int = 1, rank: int = 0, shuffle: bool = True,
                 seed: int = 0) -> None:
        if not 0 <= rank < num_replicas:
            raise ValueError(f"rank {rank} outside [0, {num_replicas})")
        if length <= 0:
            raise ValueError("the dataset is empty")
        self.length = length
        self.num_replicas = num_replicas
        self.rank = rank
        self.shuffle = shuffle
        self.seed = seed
        self.epoch = 0
        self.start = 0
        self.num_samples = math.ceil(length / num_replicas)

    def set_epoch(self, epoch: int, start: int = 0) -> None:
        """Select the epoch's permutation and skip this rank's first `start` samples."""
        self.epoch = epoch
        self.start = start

    def epoch_indices(self) -> list[int]:
        """This rank's full index list for the current epoch."""
        if self.shuffle:
            g = torch.Generator().manual_seed(self.seed + self.epoch)
            order = torch.randperm(self.length, generator=g).tolist()
        else:
            order = list(range(self.length))
        total = self.num_samples * self.num_replicas
        while len(order) < total:
            order += order[: total - len(order)]
        return order[self.rank : total : self.num_replicas]

    def __iter__(self) -> Iterator[int]:
        return iter(self.epoch_indices()[self.start :])

    def __len__(self) -> int:
        return max(0, self.num_samples - self.start)
