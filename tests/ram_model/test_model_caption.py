"""Caption branch: LM loss with masked prompt/pad and label smoothing, and beam/greedy decoding."""

from __future__ import annotations

import torch

from ram_model.models.generation import beam_search, greedy_search


def test_caption_loss_matches_manual_masked_smoothed_cross_entropy(tiny_ram, images64):
    model = tiny_ram
    embeds = model.image_embeddings(images64)
    tags = ["dog | cat", "red circle"]
    captions = ["a dog chases a cat", "two red circles above a blue square"]
    loss = model.caption_loss(embeds, tags, captions)

    tok = model.tokenizer
    enc_tags = tok(tags, max_length=40, pad_to_max=True)
    tag_ids = enc_tags.input_ids.clone()
    tag_ids[:, 0] = 30523
    tag_states = model.tag_encoder(tag_ids, enc_tags.attention_mask, embeds)
    enc = tok(["a picture of " + c for c in captions], max_length=40)
    ids = enc.input_ids.clone()
    ids[:, 0] = 30522
    logits = model.text_decoder(ids, enc.attention_mask, tag_states)
    terms = []
    for b in range(2):
        for t in range(1, ids.shape[1]):
            if t < 4 or enc.attention_mask[b, t] == 0:  # prompt (4 tokens) and padding carry no loss
                continue
            logp = logits[b, t - 1].log_softmax(-1)
            terms.append(-(0.9 * logp[ids[b, t]] + 0.1 * logp.mean()))
    assert torch.allclose(loss, torch.stack(terms).mean(), atol=1e-5)


def test_caption_loss_ignores_the_prompt_tokens(tiny_ram, images64):
    embeds = tiny_ram.image_embeddings(images64[:1])
    with_prompt = tiny_ram.caption_loss(embeds, ["dog"], ["a picture of a dog"])
    without = tiny_ram.caption_loss(embeds, ["dog"], ["a dog"])
    assert torch.allclose(with_prompt, without)


def test_caption_loss_backpropagates_to_image_encoder(tiny_tag2text, images64):
    tiny_tag2text.train()
    embeds = tiny_tag2text.image_embeddings(images64)
    tiny_tag2text.caption_loss(embeds, ["dog", "cat"], ["a dog", "a cat"]).backward()
    assert tiny_tag2text.visual_encoder.patch_embed.proj.weight.grad is not None


def _toy_step(table: dict[tuple[int, ...], list[float]], vocab: int):
    def step(seqs, parents):
        out = []
        for seq in seqs.tolist():
            probs = table.get(tuple(seq), [1.0 / vocab] * vocab)
            out.append(torch.tensor(probs).log())
        return torch.stack(out)

    return step


def test_beam_search_finds_sequence_greedy_misses():
    # vocab: 0 pad, 1 eos, 2 "a", 3 "b". Greedy takes "a" (0.6) then a flat tail; "b" (0.4) then eos at 0.99 wins.
    table = {
        (5,): [0.0, 0.0, 0.6, 0.4],
        (5, 2): [0.0, 0.34, 0.33, 0.33],
        (5, 3): [0.0, 0.97, 0.01, 0.02],
        (5, 2, 2): [0.0, 0.34, 0.33, 0.33],
        (5, 2, 3): [0.0, 0.34, 0.33, 0.33],
    }
    step = _toy_step(table, 4)
    prompt = torch.tensor([[5]])
    greedy = greedy_search(step, prompt, max_length=3, min_length=0, eos_id=1, pad_id=0)
    beam = beam_search(step, prompt, num_beams=2, max_length=3, min_length=0, eos_id=1, pad_id=0)
    assert greedy[0].tolist() == [5, 2, 1]
    assert beam[0].tolist() == [5, 3, 1]


def test_cached_decoder_steps_match_full_recomputation(tiny_tag2text):
    from ram_model.models.caption import CachedDecoderStep

    decoder = tiny_tag2text.text_decoder
    context = torch.randn(3, 40, 64)
    seqs = torch.tensor([[30522, 1037, 3861, 1997]] * 3)
    step = CachedDecoderStep(decoder, context)
    parents = None
    for token in (3899, 2003, 4937):
        got = step(seqs, parents)
        expected = decoder(seqs, encoder_hidden_states=context)  # context rows follow the sequences
        assert torch.allclose(got, expected[:, -1].log_softmax(-1), atol=1e-4)
        parents = torch.tensor([2, 0, 0])  # rows swap like surviving beams
        context = context[parents]
        seqs = torch.cat([seqs[parents], torch.full((3, 1), token)], dim=1)


def test_min_length_blocks_early_end_of_sequence():
    table = {(5,): [0.0, 0.9, 0.05, 0.05]}
    out = greedy_search(_toy_step(table, 4), torch.tensor([[5]]), max_length=4, min_length=3, eos_id=1, pad_id=0)
    assert out[0, 1].item() != 1


def test_generate_captions_returns_text_without_prompt(tiny_tag2text, images64):
    beams = tiny_tag2text.generate_captions(images64, ["dog", "cat"], num_beams=3, max_length=12, min_length=5)
    greedy = tiny_tag2text.generate_captions(images64, ["dog", "cat"], num_beams=1, max_length=12, min_length=5)
    for text in beams + greedy:
        assert isinstance(text, str) and text and not text.startswith("a picture of")


def test_cached_beam_search_equals_full_recomputation(tiny_tag2text, images64):
    from ram_model.models.caption import CachedDecoderStep

    model = tiny_tag2text
    with torch.no_grad():
        states = model.encode_tags(model.image_embeddings(images64), ["dog", "cat"]).repeat_interleave(3, dim=0)

        def naive(seqs, parents):
            return model.text_decoder(seqs, encoder_hidden_states=states)[:, -1].log_softmax(-1)

        prompt = torch.tensor([[30522, 1037, 3861, 1997]] * 2)
        kwargs = dict(num_beams=3, max_length=12, min_length=6, eos_id=102, pad_id=0)
        cached = beam_search(CachedDecoderStep(model.text_decoder, states), prompt, **kwargs)
        assert torch.equal(cached, beam_search(naive, prompt, **kwargs))
