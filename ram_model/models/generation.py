"""Greedy and beam-search decoding over a step function that returns next-token log-probabilities."""

from __future__ import annotations

from collections.abc import Callable

import torch

StepFn = Callable[[torch.Tensor, torch.Tensor | None], torch.Tensor]
"""(sequences (N, L), parents (N,) or None) → log-probs of the next token (N, V).

``parents[i]`` is the row of the previous call's ``sequences`` that row ``i`` extends by one token (None on
the first call), so a step function can keep and reorder a key/value cache.
"""


def _block_eos(logprobs: torch.Tensor, length: int, min_length: int, eos_id: int) -> torch.Tensor:
    """No end-of-sequence while the current length (prompt included) is below ``min_length``."""
    if length < min_length:
        logprobs = logprobs.clone()
        logprobs[:, eos_id] = float("-inf")
    return logprobs


def greedy_search(
    step: StepFn, prompt: torch.Tensor, *, max_length: int, min_length: int, eos_id: int, pad_id: int
) -> torch.Tensor:
    """Append the most likely token until every row has produced ``eos_id`` or ``max_length`` is reached."""
    seqs = prompt.clone()
    same_rows = torch.arange(prompt.shape[0], device=prompt.device)
    parents = None
    done = torch.zeros(prompt.shape[0], dtype=torch.bool, device=prompt.device)
    while seqs.shape[1] < max_length and not bool(done.all()):
        logprobs = _block_eos(step(seqs, parents), seqs.shape[1], min_length, eos_id)
        nxt = logprobs.argmax(dim=-1)
        nxt = torch.where(done, torch.full_like(nxt, pad_id), nxt)
        seqs = torch.cat([seqs, nxt[:, None]], dim=1)
        parents = same_rows
        done |= nxt == eos_id
    return seqs


def beam_search(
    step: StepFn,
    prompt: torch.Tensor,
    *,
    num_beams: int,
    max_length: int,
    min_length: int,
    eos_id: int,
    pad_id: int,
    length_penalty: float = 1.0,
) -> torch.Tensor:
    """Standard beam search; finished hypotheses are ranked by ``sum log p / length ** length_penalty``
    with ``length`` the sequence length before the end token (prompt included), as in HF transformers.

    ``step`` sees ``num_beams`` rows per prompt row (row ``b * num_beams + k`` is beam k of prompt b).
    Returns the best sequence per prompt row, right-padded with ``pad_id`` (B, L).
    """
    batch, prompt_len = prompt.shape
    device = prompt.device
    seqs = prompt.repeat_interleave(num_beams, dim=0)  # (B*K, L)
    parents: torch.Tensor | None = None
    beam_scores = torch.zeros(batch, num_beams, device=device)
    beam_scores[:, 1:] = float("-inf")  # all beams start identical: expand only the first
    finished: list[list[tuple[float, torch.Tensor]]] = [[] for _ in range(batch)]
    for _ in range(max_length - prompt_len):
        length = seqs.shape[1]
        logprobs = _block_eos(step(seqs, parents), length, min_length, eos_id)  # (B*K, V)
        vocab = logprobs.shape[-1]
        total = (beam_scores.view(-1, 1) + logprobs).view(batch, num_beams * vocab)
        top_scores, top_idx = total.topk(2 * num_beams, dim=-1)
        new_seqs: list[torch.Tensor] = []
        new_parents: list[int] = []
        new_scores = torch.full((batch, num_beams), float("-inf"), device=device)
        for b in range(batch):
            chosen = 0
            for score, idx in zip(top_scores[b].tolist(), top_idx[b].tolist()):
                beam, token = divmod(idx, vocab)
                row = b * num_beams + beam
                if token == eos_id:
                    if score > float("-inf"):
                        hyp = torch.cat([seqs[row], seqs.new_tensor([token])])
                        finished[b].append((score / (length**length_penalty), hyp))
                    continue
                if chosen < num_beams:
                    new_seqs.append(torch.cat([seqs[row], seqs.new_tensor([token])]))
                    new_parents.append(row)
                    new_scores[b, chosen] = score
                    chosen += 1
            while chosen < num_beams:  # cannot happen with 2K candidates, kept for safety
                new_seqs.append(new_seqs[-1])
                new_parents.append(new_parents[-1])
                chosen += 1
        seqs = torch.stack(new_seqs)
        parents = torch.tensor(new_parents, device=device)
        beam_scores = new_scores
        if all(_is_done(finished[b], beam_scores[b], length, length_penalty, num_beams) for b in range(batch)):
            break
    best: list[torch.Tensor] = []
    for b in range(batch):
        candidates = list(finished[b])
        final_len = seqs.shape[1]
        for k in range(num_beams):
            candidates.append((beam_scores[b, k].item() / (final_len**length_penalty), seqs[b * num_beams + k]))
        best.append(max(candidates, key=lambda item: item[0])[1])
    width = max(len(s) for s in best)
    out = torch.full((batch, width), pad_id, dtype=prompt.dtype, device=device)
    for b, s in enumerate(best):
        out[b, : len(s)] = s
    return out


def _is_done(
    finished: list[tuple[float, torch.Tensor]],
    beam_scores: torch.Tensor,
    length: int,
    length_penalty: float,
    num_beams: int,
) -> bool:
    """Done when K hypotheses finished and no live beam can beat the worst of the best K."""
    if len(finished) < num_beams:
        return False
    worst_kept = sorted(score for score, _ in finished)[-num_beams]
    best_live = beam_scores.max().item() / (length**length_penalty)
    return best_live <= worst_kept
