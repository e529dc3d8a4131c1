"""The paper-scale lineup, exercised before anyone pays for a GPU (issue #16, item 6).

For each architecture family of ``vaxis.text.llm.LINEUP_14`` a tiny random-weight model is built from that family's
config class, saved to a folder with a tokenizer that has no pad token, and run through the whole text path:
``load_model(folder)`` -> ``extract`` (hooks, early stop) -> ``VAxis`` (standardised with reference texts) ->
positions. The hook-pooled states are checked against transformers' own ``output_hidden_states``.
"""

from __future__ import annotations

import numpy as np
import pytest

from vaxis.text import llm
from vaxis.text.axis import VAxis, layer_rule
from vaxis.text.reference_texts import reference_texts
from vaxis.text.sentences import SIGNS, TEXTS

TINY = dict(hidden_size=32, num_hidden_layers=3, num_attention_heads=4, intermediate_size=64,
            max_position_embeddings=256)
FAMILIES = {
    "llama": ("LlamaConfig", dict(num_key_value_heads=2)),
    "qwen2": ("Qwen2Config", dict(num_key_value_heads=2)),
    "mistral": ("MistralConfig", dict(num_key_value_heads=2, sliding_window=None)),
    "gemma2": ("Gemma2Config", dict(num_key_value_heads=2, head_dim=8, sliding_window=16)),
    "gemma3_text": ("Gemma3TextConfig", dict(num_key_value_heads=2, head_dim=8, sliding_window=16)),
    "phi": ("PhiConfig", dict(num_key_value_heads=4)),
    "phi3": ("Phi3Config", dict(num_key_value_heads=2, pad_token_id=0)),
    "olmo2": ("Olmo2Config", dict(num_key_value_heads=2)),
    "falcon": ("FalconConfig", dict(new_decoder_architecture=True, num_kv_heads=2, parallel_attn=True)),
}


def test_every_lineup_model_has_a_tested_family():
    assert set(llm.LINEUP_MODEL_TYPES) == set(llm.LINEUP_14)
    assert set(llm.LINEUP_MODEL_TYPES.values()) == set(FAMILIES)


def _no_pad_tokenizer(texts):
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tk = Tokenizer(models.WordLevel(unk_token="<unk>"))
    tk.pre_tokenizer = pre_tokenizers.Whitespace()
    tk.train_from_iterator(texts, trainers.WordLevelTrainer(special_tokens=["<unk>", "<eos>"]))
    tok = PreTrainedTokenizerFast(tokenizer_object=tk, unk_token="<unk>", eos_token="<eos>")
    assert tok.pad_token is None
    return tok


@pytest.fixture(scope="module")
def tokenizer():
    return _no_pad_tokenizer(list(TEXTS) + reference_texts())


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_tiny_family_runs_load_extract_axis_positions(family, tokenizer, tmp_path):
    import torch
    import transformers

    cls_name, extra = FAMILIES[family]
    # a few spare ids: some families' tokenizer classes add their own special tokens on load
    config = getattr(transformers, cls_name)(**{**TINY, "vocab_size": len(tokenizer) + 8, **extra})
    assert config.model_type == family
    torch.manual_seed(0)
    model = transformers.AutoModel.from_config(config)
    folder = tmp_path / family
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)

    m = llm.load_model(str(folder), device="cpu")
    assert m.kind == "causal" and m.n_layers == 3 and m.default_pooling == "mean-no-first"
    assert m.tokenizer.pad_token is not None and m.tokenizer.padding_side == "right"
    texts = list(TEXTS)
    h = llm.extract(m, texts, use_cache=False, progress=False, batch_size=4)
    assert h.shape == (4, 9, 32) and np.isfinite(h).all()

    # hook pooling == transformers' output_hidden_states, layer by layer (one unsorted batch of all nine)
    enc = m.tokenizer(texts, padding=True, return_tensors="pt")
    enc = {k: v for k, v in enc.items() if k in ("input_ids", "attention_mask")}
    with torch.inference_mode():
        hs = torch.stack(m.module(**enc, output_hidden_states=True).hidden_states).float()
    ref = llm._pool(hs, enc["attention_mask"], "mean-no-first").numpy()
    np.testing.assert_allclose(h, ref, rtol=1e-4, atol=1e-5)
    one = llm.extract(m, texts, layers=[1], use_cache=False, progress=False)  # stops after block 0
    np.testing.assert_allclose(one[0], ref[1], rtol=1e-4, atol=1e-5)

    refs = llm.extract(m, reference_texts()[:40], use_cache=False, progress=False)
    layer = layer_rule(h, refs)
    ax = VAxis(layer=layer, reference=refs).fit(h, SIGNS)
    pos = ax.transform(h)[:, 0]
    assert pos.shape == (9,) and np.isfinite(pos).all()
    assert pos[SIGNS > 0].mean() > pos[SIGNS < 0].mean()  # the sign rule holds on any fitted axis
