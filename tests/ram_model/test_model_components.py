"""Model components against straightforward reference computations."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from ram_model.models.bert import BertConfig, MultiHeadAttention, TaggingHead
from ram_model.models.heads import GroupWiseLinear, reweight_descriptions


def reference_attention(mha: MultiHeadAttention, x, ctx, keep=None):
    """Hand-written softmax attention with einsum (keep: (B, Lk) bool or None)."""
    heads = mha.num_heads
    q = mha.query(x)
    k = mha.key(ctx)
    v = mha.value(ctx)
    b, lq, width = q.shape
    d = width // heads
    q = q.view(b, lq, heads, d)
    k = k.view(b, -1, heads, d)
    v = v.view(b, -1, heads, d)
    scores = torch.einsum("bqhd,bkhd->bhqk", q, k) / math.sqrt(d)
    if keep is not None:
        scores = scores + (1.0 - keep[:, None, None, :].float()) * -10000.0
    probs = scores.softmax(-1)
    return torch.einsum("bhqk,bkhd->bqhd", probs, v).reshape(b, lq, width)


def test_cross_attention_matches_einsum_reference():
    torch.manual_seed(0)
    mha = MultiHeadAttention(hidden_size=48, kv_width=20, num_heads=4, dropout=0.0).eval()
    x, ctx = torch.randn(2, 5, 48), torch.randn(2, 7, 20)
    keep = torch.tensor([[1, 1, 1, 1, 1, 0, 0], [1, 1, 1, 1, 1, 1, 1]]).bool()
    expected = reference_attention(mha, x, ctx, keep)
    got = mha(x, ctx, keep[:, None, None, :])
    assert torch.allclose(got, expected, atol=1e-5)


def test_tagging_head_matches_manual_two_layer_computation():
    torch.manual_seed(0)
    config = BertConfig(hidden_size=32, num_hidden_layers=2, num_attention_heads=4, intermediate_size=64,
                        encoder_width=24)
    head = TaggingHead(config).eval()
    queries, image = torch.randn(3, 6, 32), torch.randn(3, 9, 24)
    h = queries
    for layer in head.encoder.layer:
        attn = layer.crossattention
        a = reference_attention(attn.self, h, image)
        h = F.layer_norm(attn.output.dense(a) + h, (32,), attn.output.LayerNorm.weight, attn.output.LayerNorm.bias,
                         1e-12)
        ff = layer.output.dense(F.gelu(layer.intermediate.dense(h)))
        h = F.layer_norm(ff + h, (32,), layer.output.LayerNorm.weight, layer.output.LayerNorm.bias, 1e-12)
    assert torch.allclose(head(queries, image), h, atol=1e-5)
    assert all(layer.attention is None for layer in head.encoder.layer)  # no self-attention


def test_ram_logits_are_shared_fc_over_tagging_head_of_relu_projected_queries(tiny_ram, images64):
    model = tiny_ram
    embeds = model.image_embeddings(images64)
    queries = F.relu(model.label_embed @ model.wordvec_proj.weight.t() + model.wordvec_proj.bias)
    hidden = model.tagging_head(queries.expand(2, -1, -1), embeds)
    expected = hidden @ model.fc.weight[0] + model.fc.bias[0]
    assert torch.allclose(model.tagging_logits(images64), expected, atol=1e-5)


def test_ram_plus_reweighting_matches_per_image_loop():
    torch.manual_seed(0)
    classes, per_class, dim = 5, 3, 8
    label_embed = torch.randn(classes * per_class, dim)
    pooled = torch.randn(2, dim)
    log_scale = torch.tensor(math.log(1 / 0.07))
    got = reweight_descriptions(pooled, label_embed, classes, log_scale)
    for b in range(2):
        e = pooled[b] / pooled[b].norm()
        for c in range(classes):
            rows = label_embed[c * per_class : (c + 1) * per_class]
            w = (log_scale.exp() * rows @ e).softmax(0)
            assert torch.allclose(got[b, c], (w[:, None] * rows).sum(0), atol=1e-5)


def test_ram_plus_queries_depend_on_the_image(tiny_ram_plus, images64):
    embeds = tiny_ram_plus.image_embeddings(images64)
    queries = tiny_ram_plus.label_queries(embeds)
    assert queries.shape == (2, 4585, 64)
    assert not torch.allclose(queries[0], queries[1])


def test_group_wise_linear_is_one_dot_product_per_class():
    torch.manual_seed(0)
    fc = GroupWiseLinear(4, 6)
    h = torch.randn(2, 4, 6)
    expected = torch.stack([torch.stack([h[b, c] @ fc.W[0, c] + fc.b[0, c] for c in range(4)]) for b in range(2)])
    assert torch.allclose(fc(h), expected, atol=1e-6)


def test_swin_token_zero_is_mean_of_final_normed_tokens(tiny_ram, images64):
    encoder = tiny_ram.visual_encoder
    tokens = encoder(images64)
    features = encoder.forward_features(images64).flatten(1, 2)
    assert torch.allclose(tokens[:, 1:], features)
    assert torch.allclose(tokens[:, 0], features.mean(1), atol=1e-6)


def test_fused_swin_attention_matches_eager(tiny_ram, images64):
    eager = tiny_ram.visual_encoder(images64)
    tiny_ram.set_fast_attention(True)
    assert torch.allclose(tiny_ram.visual_encoder(images64), eager, atol=1e-4)


def test_tagging_head_weights_are_shared_into_tag_encoder(tiny_ram):
    head_layer = tiny_ram.tagging_head.encoder.layer[1]
    enc_layer = tiny_ram.tag_encoder.encoder.layer[1]
    assert enc_layer.crossattention.self.key.weight is head_layer.crossattention.self.key.weight
    assert enc_layer.output.LayerNorm.bias is head_layer.output.LayerNorm.bias
    assert enc_layer.attention.self.query.weight is not None  # self-attention stays separate
    assert head_layer.crossattention.self.num_heads == 2 and enc_layer.crossattention.self.num_heads == 4


def test_decoder_output_projection_is_tied_to_word_embeddings(tiny_ram):
    decoder = tiny_ram.text_decoder
    assert decoder.cls.predictions.decoder.weight is decoder.bert.embeddings.word_embeddings.weight
    assert decoder.cls.predictions.decoder.bias is decoder.cls.predictions.bias


def test_ram_plus_has_no_caption_branch(tiny_ram_plus):
    names = {k.split(".")[0] for k in tiny_ram_plus.state_dict()}
    assert names == {"label_embed", "reweight_scale", "visual_encoder", "image_proj", "wordvec_proj", "tagging_head",
                     "fc"}


def test_text_decoder_is_causal(tiny_ram):
    decoder = tiny_ram.text_decoder
    ctx = torch.randn(1, 40, 64)
    ids = torch.tensor([[30522, 1037, 3861, 1997, 3899, 102]])
    changed = ids.clone()
    changed[0, 4] = 4937
    a, b = decoder(ids, encoder_hidden_states=ctx), decoder(changed, encoder_hidden_states=ctx)
    assert torch.allclose(a[:, :4], b[:, :4], atol=1e-5)
    assert not torch.allclose(a[:, 4:], b[:, 4:])


def test_set_label_embeddings_swaps_classes(tiny_ram, images64):
    new = F.normalize(torch.randn(3, 512), dim=-1)
    tiny_ram.set_label_embeddings(new)
    assert tiny_ram.num_classes == 3
    assert tiny_ram.tagging_logits(images64).shape == (2, 3)
    assert torch.equal(tiny_ram.label_embed, new)
    assert not tiny_ram.label_embed.requires_grad


def test_ram_plus_set_label_embeddings_accepts_class_description_tensor(tiny_ram_plus, images64):
    tiny_ram_plus.set_label_embeddings(torch.randn(4, 5, 512))
    assert (tiny_ram_plus.num_classes, tiny_ram_plus.num_descriptions) == (4, 5)
    assert tiny_ram_plus.tagging_logits(images64).shape == (2, 4)
