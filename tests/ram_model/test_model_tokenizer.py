"""WordPiece tokenizer with RAM's [DEC]/[ENC] tokens."""

from __future__ import annotations

from ram_model.tokenizer import RamTokenizer


def test_special_token_ids_and_vocab_size():
    tok = RamTokenizer()
    assert (tok.pad_token_id, tok.cls_token_id, tok.sep_token_id) == (0, 101, 102)
    assert (tok.bos_token_id, tok.enc_token_id) == (30522, 30523)
    assert len(tok) == 30524


def test_prompt_ids_match_official():
    assert RamTokenizer().prompt_ids("a picture of ") == [101, 1037, 3861, 1997, 102]


def test_tags_are_lowercased_wordpieces_padded_to_max_length():
    enc = RamTokenizer()(["Dog | cat | Running man"], max_length=40, pad_to_max=True)
    assert enc.input_ids.shape == (1, 40)
    assert enc.input_ids[0, :8].tolist() == [101, 3899, 1064, 4937, 1064, 2770, 2158, 102]
    assert enc.attention_mask[0].sum().item() == 8


def test_truncation_keeps_sep_last():
    enc = RamTokenizer()([" ".join(["dog"] * 100)], max_length=40)
    ids = enc.input_ids[0].tolist()
    assert len(ids) == 40 and ids[0] == 101 and ids[-1] == 102


def test_decode_skips_special_tokens():
    tok = RamTokenizer()
    assert tok.decode([30522, 1037, 3861, 1997, 3899, 102, 0]) == "a picture of dog"
