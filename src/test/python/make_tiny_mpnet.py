#!/usr/bin/python3
"""Writes the tiny MPNet fixture and its reference vectors under src/test/resources/fixtures/tiny-mpnet/.

Run once, by hand, with Debian's torch (apt-get install python3-torch; torch 1.13); no transformers, tokenizers or
safetensors package is needed or imported:

    /usr/bin/python3 src/test/python/make_tiny_mpnet.py

The output is committed; neither the build nor CI runs this script.

It writes a deterministic random MPNet in the exact Hugging Face layout (config.json with model_type "mpnet", the
checkpoint names of transformers' MPNetModel, a WordPiece tokenizer.json with MPNet's <s> ... </s> post-processor),
a PEFT prompt-tuning adapter for it, and reference.json: the texts, their token ids, the relative-position bucket of
every distance, and the sentence embeddings of the base model and of the prompt-tuned model under both virtual-token
policies, computed here in float64.

The forward is written from transformers' src/transformers/models/mpnet/modeling_mpnet.py, read at commit
00099b9f15ad8bea330364709453fc49cbba90e5 (line numbers of that version), one text at a time and unpadded, so no
attention mask enters:

  MPNetEmbeddings.__init__ (L63)         padding_idx = 1, fixed; there are no token_type_embeddings
  MPNetEmbeddings.forward (L75-99)       input_ids given: create_position_ids_from_input_ids(ids, padding_idx)
                                         (L77-78); inputs_embeds given, PEFT's prompt tuning:
                                         create_position_ids_from_inputs_embeds (L79-80); embeddings =
                                         inputs_embeds + position_embeddings(position_ids), then LayerNorm (L94-97)
  create_position_ids_from_inputs_embeds (L101-116)   arange(padding_idx + 1, L + padding_idx + 1) (L113-115):
                                         sequential over virtual and real tokens alike
  create_position_ids_from_input_ids (module function, end of the file)   mask = ids.ne(padding_idx);
                                         cumsum(mask) * mask + padding_idx, so real tokens take padding_idx + 1 onward
  MPNetEncoder.__init__ (L291)           relative_attention_bias = Embedding(relative_attention_num_buckets, heads)
  MPNetEncoder.forward (L302, L311-316)  position_bias = self.compute_position_bias(hidden_states), once, then the
                                         same bias goes to every layer
  MPNetEncoder.compute_position_bias (L332-348)   called without position_ids, so context and memory positions are
                                         arange(qlen) and arange(klen) over the hidden states, virtual tokens
                                         included (L338-339); relative_position = memory - context (L341); bucket
                                         with num_buckets=32, the default of L332 whatever the config says (L343);
                                         relative_attention_bias(bucket) permuted to [1, heads, q, k] (L345-347)
  MPNetEncoder.relative_position_bucket (L351-368)   n = -relative; num_buckets //= 2 (16); +16 where n < 0;
                                         n = |n|; max_exact = 8; n < 8 exact; else 8 + long(log(n / 8) /
                                         log(128 / 8) * 8), capped at 15
  MPNetSelfAttention.forward (L139-189)  q, k, v = attn.q/k/v(x) split in heads (L148-162); scores = q k^T /
                                         sqrt(d) (L165-166), + position_bias (L169-170), + attention_mask (L172-173);
                                         softmax (L176); context @ v (L180); attn.o(context) (L186)
  MPNetAttention.forward (L213)          attention.LayerNorm(attn(x) + x)
  MPNetIntermediate.forward (L228-231), MPNetOutput.forward (L242-246)   copies of BERT's: dense, gelu; dense,
                                         residual add, LayerNorm
  MPNetModel.forward (L449, L452-456)    extended mask from get_extended_attention_mask (all zeros for one unpadded
                                         text); the embeddings get the caller's position_ids, None from PEFT

PEFT v0.20.0 src/peft/peft_model.py, PeftModelForFeatureExtraction.forward: for prompt tuning the attention mask
gets num_virtual_tokens ones in front and the model is called with inputs_embeds = cat(prompts, word_embeddings(ids))
and no position ids. sentence-transformers' Pooling (mean: masked sum over the clamped count) and Normalize follow
bert_reference.py; with the "include" policy the virtual tokens are pooled as the attention mask says, with
"exclude" only the real tokens are.

This forward earns its trust where MPNet coincides with BERT: with the relative bias zeroed, and the weights renamed
to BERT's (attn.q/k/v -> attention.self.query/key/value, attn.o -> attention.output.dense, attention.LayerNorm ->
attention.output.LayerNorm, position rows 2.. as BERT's rows 0.., a zero token-type row), it must give exactly what
bert_reference.py (itself checked against ONNX Runtime) gives. main() asserts that before writing anything.
"""

import json
import math
import os
import shutil
import sys
import tempfile

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bert_reference import SentenceBert, read_safetensors, write_safetensors  # noqa: E402
from make_tiny_prompt_bert import vocabulary as bert_vocabulary  # noqa: E402

HIDDEN = 32
LAYERS = 2
HEADS = 4
INTERMEDIATE = 64
MAX_POSITIONS = 514
LN_EPS = 1e-5
BUCKETS = 32
VIRTUAL_TOKENS = 6
MAX_SEQ_LENGTH = 384
PADDING_IDX = 1
SEED = 20261204

SPECIALS = ["<s>", "<pad>", "</s>", "<unk>"]
MASK = "<mask>"
UNK = "[UNK]"

TEXTS = [
    "a man is eating food.",
    "the quick brown fox jumps over the lazy dog",
    "",
    "dogs walked quickly, and the cats played outside!",
    "zyxwv is not a word we know",
    # Long enough (with the virtual tokens) that every relative-position bucket is used: distances past 128.
    " ".join(["the children read books in the park while the old man plays music on his guitar ."] * 9),
]


FIXTURE_README = """# tiny-mpnet: test fixtures, generated once

Written by `src/test/python/make_tiny_mpnet.py` with Debian's `python3-torch` 1.13 and committed (under 300 KB).
Neither the build nor CI regenerates them; rerunning the script rewrites the same bytes.

    /usr/bin/python3 src/test/python/make_tiny_mpnet.py

| path | what |
|---|---|
| `st/` | a seeded MPNet (hidden 32, 2 layers, 4 heads, intermediate 64, 514 positions, 32 relative buckets) in transformers' checkpoint names, a WordPiece `tokenizer.json` with MPNet's `<s> ... </s>` post-processor, mean pooling, Normalize, `max_seq_length` 384 |
| `adapter/` | a PEFT prompt-tuning adapter for `st/`, M = 6 |
| `reference.json` | the texts, their token ids, transformers' relative-position bucket of every distance in -600..600, and reference sentence embeddings (base, prompt tuning with the include and the exclude policy) from a float64 forward written from `modeling_mpnet.py` |
"""


def vocabulary():
    """MPNet's layout: <s> <pad> </s> <unk>, then a BERT WordPiece vocabulary, then <mask>."""
    vocab = {t: i for i, t in enumerate(SPECIALS)}
    for token in sorted(bert_vocabulary(), key=bert_vocabulary().get):
        vocab[token] = len(vocab)
    vocab[MASK] = len(vocab)
    return vocab


def tokenizer_json(vocab):
    """An MPNet tokenizer.json as all-mpnet-base-v2 ships one: BERT normalizer and pre-tokenizer, WordPiece with
    [UNK], RobertaProcessing adding <s> ... </s>."""
    added = [{"id": vocab[t], "content": t, "single_word": False, "lstrip": t == MASK, "rstrip": False,
              "normalized": False, "special": True} for t in SPECIALS + [UNK, MASK]]
    return {
        "version": "1.0",
        "truncation": {"direction": "Right", "max_length": MAX_SEQ_LENGTH, "strategy": "LongestFirst", "stride": 0},
        "padding": None,
        "added_tokens": added,
        "normalizer": {"type": "BertNormalizer", "clean_text": True, "handle_chinese_chars": True,
                       "strip_accents": None, "lowercase": True},
        "pre_tokenizer": {"type": "BertPreTokenizer"},
        "post_processor": {"type": "RobertaProcessing", "sep": ["</s>", vocab["</s>"]], "cls": ["<s>", vocab["<s>"]],
                           "trim_offsets": True, "add_prefix_space": True},
        "decoder": {"type": "WordPiece", "prefix": "##", "cleanup": True},
        "model": {"type": "WordPiece", "unk_token": UNK, "continuing_subword_prefix": "##",
                  "max_input_chars_per_word": 100, "vocab": vocab},
    }


def wordpiece_ids(text, vocab):
    """<s> + greedy longest-match WordPiece of the lower-cased, punctuation-split text + </s>. Good enough for the
    ASCII texts above; the JVM suite checks these ids against the real tokenizer."""
    words, word = [], ""
    for ch in text.lower():
        if ch.isspace() or (not ch.isalnum()):
            if word:
                words.append(word)
            word = ""
            if not ch.isspace():
                words.append(ch)
        else:
            word += ch
    if word:
        words.append(word)
    ids = [vocab["<s>"]]
    for w in words:
        pieces, start = [], 0
        while start < len(w):
            end = len(w)
            while end > start and (("##" if start else "") + w[start:end]) not in vocab:
                end -= 1
            if end == start:
                pieces = [vocab[UNK]]
                break
            pieces.append(vocab[("##" if start else "") + w[start:end]])
            start = end
        ids.extend(pieces)
    return ids + [vocab["</s>"]]


def relative_position_bucket(relative_position, num_buckets=BUCKETS, max_distance=128):
    """MPNetEncoder.relative_position_bucket, on a long tensor, in torch's float32 as transformers computes it."""
    ret = 0
    n = -relative_position
    num_buckets //= 2
    ret += (n < 0).to(torch.long) * num_buckets
    n = torch.abs(n)
    max_exact = num_buckets // 2
    is_small = n < max_exact
    val_if_large = max_exact + (torch.log(n.float() / max_exact) / math.log(max_distance / max_exact)
                                * (num_buckets - max_exact)).to(torch.long)
    val_if_large = torch.min(val_if_large, torch.full_like(val_if_large, num_buckets - 1))
    ret += torch.where(is_small, n, val_if_large)
    return ret


class MPNetReference:
    """MPNetModel's forward on one unpadded text, from a checkpoint's tensors."""

    def __init__(self, weights, dtype=torch.float64):
        self.w = {k: v.to(dtype) for k, v in weights.items()}
        self.dtype = dtype

    def position_bias(self, length):
        positions = torch.arange(length, dtype=torch.long)
        relative = positions[None, :] - positions[:, None]
        bucket = relative_position_bucket(relative)
        return self.w["encoder.relative_attention_bias.weight"][bucket].permute(2, 0, 1)  # [heads, L, L]

    def token_embeddings(self, ids, prompt=None):
        w = self.w
        ids_t = torch.tensor(ids, dtype=torch.long)
        words = w["embeddings.word_embeddings.weight"][ids_t]
        if prompt is None:
            not_pad = ids_t.ne(PADDING_IDX).long()
            positions = torch.cumsum(not_pad, 0) * not_pad + PADDING_IDX
            x = words
        else:
            x = torch.cat([prompt.to(self.dtype), words], 0)
            positions = torch.arange(PADDING_IDX + 1, x.shape[0] + PADDING_IDX + 1)
        x = x + w["embeddings.position_embeddings.weight"][positions]
        x = self.layer_norm(x, "embeddings.LayerNorm")
        length = x.shape[0]
        bias = self.position_bias(length)
        d = HIDDEN // HEADS
        for i in range(LAYERS):
            pre = "encoder.layer.%d." % i

            def heads(t):
                return t.view(length, HEADS, d).transpose(0, 1)

            q = heads(self.linear(x, pre + "attention.attn.q"))
            k = heads(self.linear(x, pre + "attention.attn.k"))
            v = heads(self.linear(x, pre + "attention.attn.v"))
            scores = q @ k.transpose(-1, -2) / math.sqrt(d) + bias
            context = (torch.softmax(scores, dim=-1) @ v).transpose(0, 1).reshape(length, HIDDEN)
            attended = self.layer_norm(self.linear(context, pre + "attention.attn.o") + x, pre + "attention.LayerNorm")
            inner = torch.nn.functional.gelu(self.linear(attended, pre + "intermediate.dense"))
            x = self.layer_norm(self.linear(inner, pre + "output.dense") + attended, pre + "output.LayerNorm")
        return x

    def linear(self, x, module):
        return torch.nn.functional.linear(x, self.w[module + ".weight"], self.w[module + ".bias"])

    def layer_norm(self, x, module):
        return torch.nn.functional.layer_norm(x, (HIDDEN,), self.w[module + ".weight"], self.w[module + ".bias"],
                                              LN_EPS)


def sentence_embedding(tokens, pooled_from=0):
    pooled = tokens[pooled_from:].sum(0) / max(float(tokens.shape[0] - pooled_from), 1e-9)
    return torch.nn.functional.normalize(pooled, p=2, dim=0)


def seeded_weights(vocab_size, generator):
    """Every tensor transformers' MPNetModel holds (the pooler aside, which sentence-transformers never runs),
    under its checkpoint name; large enough that attention is far from uniform and every module moves the result."""
    shapes = {
        "embeddings.word_embeddings.weight": [vocab_size, HIDDEN],
        "embeddings.position_embeddings.weight": [MAX_POSITIONS, HIDDEN],
        "embeddings.LayerNorm.weight": [HIDDEN],
        "embeddings.LayerNorm.bias": [HIDDEN],
        "encoder.relative_attention_bias.weight": [BUCKETS, HEADS],
    }
    for i in range(LAYERS):
        pre = "encoder.layer.%d." % i
        for proj in "qkvo":
            shapes[pre + "attention.attn.%s.weight" % proj] = [HIDDEN, HIDDEN]
            shapes[pre + "attention.attn.%s.bias" % proj] = [HIDDEN]
        shapes[pre + "attention.LayerNorm.weight"] = [HIDDEN]
        shapes[pre + "attention.LayerNorm.bias"] = [HIDDEN]
        shapes[pre + "intermediate.dense.weight"] = [INTERMEDIATE, HIDDEN]
        shapes[pre + "intermediate.dense.bias"] = [INTERMEDIATE]
        shapes[pre + "output.dense.weight"] = [HIDDEN, INTERMEDIATE]
        shapes[pre + "output.dense.bias"] = [HIDDEN]
        shapes[pre + "output.LayerNorm.weight"] = [HIDDEN]
        shapes[pre + "output.LayerNorm.bias"] = [HIDDEN]
    weights = {}
    for name in sorted(shapes):
        shape = shapes[name]
        if "LayerNorm.weight" in name:
            t = 1.0 + 0.1 * torch.randn(shape, generator=generator)
        elif name.endswith("bias") and "relative_attention_bias" not in name:
            t = 0.05 * torch.randn(shape, generator=generator)
        elif "embeddings" in name:
            t = 0.5 * torch.randn(shape, generator=generator)
        elif "relative_attention_bias" in name:
            t = 2.0 * torch.randn(shape, generator=generator)  # trained MPNets hold biases of this size
        else:
            t = 0.25 * torch.randn(shape, generator=generator)
        weights[name] = t
    return weights


def mpnet_config(vocab_size):
    """config.json as transformers' MPNetConfig saves it."""
    return {"architectures": ["MPNetModel"], "model_type": "mpnet", "hidden_size": HIDDEN,
            "num_hidden_layers": LAYERS, "num_attention_heads": HEADS, "intermediate_size": INTERMEDIATE,
            "max_position_embeddings": MAX_POSITIONS, "vocab_size": vocab_size, "layer_norm_eps": LN_EPS,
            "hidden_act": "gelu", "relative_attention_num_buckets": BUCKETS, "pad_token_id": PADDING_IDX,
            "bos_token_id": 0, "eos_token_id": 2, "hidden_dropout_prob": 0.1,
            "attention_probs_dropout_prob": 0.1, "initializer_range": 0.02, "_name_or_path": "tiny-mpnet"}


def write_json(path, value):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        json.dump(value, f, indent=2, ensure_ascii=False)
        f.write("\n")


def sentence_transformers_configs(directory):
    write_json(os.path.join(directory, "modules.json"), [
        {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
        {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
        {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"}])
    write_json(os.path.join(directory, "sentence_bert_config.json"),
               {"max_seq_length": MAX_SEQ_LENGTH, "do_lower_case": False})
    write_json(os.path.join(directory, "1_Pooling", "config.json"), {
        "word_embedding_dimension": HIDDEN, "pooling_mode_cls_token": False, "pooling_mode_mean_tokens": True,
        "pooling_mode_max_tokens": False, "pooling_mode_mean_sqrt_len_tokens": False,
        "pooling_mode_weightedmean_tokens": False, "pooling_mode_lasttoken": False, "include_prompt": True})
    os.makedirs(os.path.join(directory, "2_Normalize"))


def as_bert(weights):
    """The same network as a BERT checkpoint, the relative bias dropped: what MPNet is without it."""
    bert = {}
    for name, t in weights.items():
        if name == "encoder.relative_attention_bias.weight":
            continue
        renamed = (name.replace("attention.attn.q.", "attention.self.query.")
                   .replace("attention.attn.k.", "attention.self.key.")
                   .replace("attention.attn.v.", "attention.self.value.")
                   .replace("attention.attn.o.", "attention.output.dense.")
                   .replace("attention.LayerNorm.", "attention.output.LayerNorm."))
        bert[renamed] = t
    # BERT numbers positions from 0 where MPNet numbers real tokens from padding_idx + 1.
    bert["embeddings.position_embeddings.weight"] = weights["embeddings.position_embeddings.weight"][
        PADDING_IDX + 1:]
    bert["embeddings.token_type_embeddings.weight"] = torch.zeros(2, HIDDEN)
    return bert


def check_against_bert(weights, vocab_size, ids_per_text):
    """With the relative bias zeroed, this MPNet forward must equal bert_reference.py on the renamed weights."""
    zeroed = dict(weights)
    zeroed["encoder.relative_attention_bias.weight"] = torch.zeros(BUCKETS, HEADS)
    mpnet = MPNetReference(zeroed)
    with tempfile.TemporaryDirectory() as d:
        write_safetensors(os.path.join(d, "model.safetensors"), as_bert(weights))
        config = {"model_type": "bert", "hidden_size": HIDDEN, "num_hidden_layers": LAYERS,
                  "num_attention_heads": HEADS, "intermediate_size": INTERMEDIATE,
                  "max_position_embeddings": MAX_POSITIONS - PADDING_IDX - 1, "vocab_size": vocab_size,
                  "type_vocab_size": 2, "layer_norm_eps": LN_EPS, "hidden_act": "gelu"}
        write_json(os.path.join(d, "config.json"), config)
        sentence_transformers_configs(d)
        bert = SentenceBert(d, torch.float64)
        worst = 0.0
        for ids in ids_per_text:
            worst = max(worst, (mpnet.token_embeddings(ids) - bert.token_embeddings(ids)).abs().max().item())
    if worst > 1e-12:
        sys.exit("the MPNet forward without its relative bias disagrees with bert_reference.py: max|d| %g" % worst)
    print("MPNet forward, relative bias zeroed, vs bert_reference.py: max|d| %.3g" % worst)
    biased = MPNetReference(weights)
    moved = min(torch.nn.functional.cosine_similarity(biased.token_embeddings(ids), mpnet.token_embeddings(ids),
                                                      dim=1).min().item()
                for ids in ids_per_text)
    if moved > 0.9:
        sys.exit("the relative bias barely moves the token vectors (worst cosine %g)" % moved)
    print("relative bias on vs off: worst token cosine %.4f" % moved)


def main():
    root = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "resources", "fixtures",
                                         "tiny-mpnet"))
    if os.path.isdir(root):
        shutil.rmtree(root)
    generator = torch.Generator().manual_seed(SEED)
    vocab = vocabulary()
    vocab_size = len(vocab)
    weights = seeded_weights(vocab_size, generator)
    prompt = torch.randn(VIRTUAL_TOKENS, HIDDEN, generator=generator)  # PEFT's RANDOM init: nn.Embedding's N(0, 1)
    ids_per_text = [wordpiece_ids(t, vocab) for t in TEXTS]
    longest = max(len(ids) for ids in ids_per_text) + VIRTUAL_TOKENS
    if longest <= 128 or longest > MAX_SEQ_LENGTH:
        sys.exit("the long text must reach past distance 128 yet fit max_seq_length: %d positions" % longest)

    check_against_bert(weights, vocab_size, ids_per_text)

    # The bucket rule in float32 torch, as transformers runs it, for the JVM to compare its own with.
    distances = torch.arange(-600, 601)
    buckets = relative_position_bucket(distances)

    st = os.path.join(root, "st")
    os.makedirs(st)
    write_json(os.path.join(st, "config.json"), mpnet_config(vocab_size))
    write_safetensors(os.path.join(st, "model.safetensors"), weights)
    write_json(os.path.join(st, "tokenizer.json"), tokenizer_json(vocab))
    sentence_transformers_configs(st)
    reread = read_safetensors(os.path.join(st, "model.safetensors"), torch.float64)
    model = MPNetReference(reread)

    adapter = os.path.join(root, "adapter")
    os.makedirs(adapter)
    write_json(os.path.join(adapter, "adapter_config.json"), {
        "peft_type": "PROMPT_TUNING", "task_type": "FEATURE_EXTRACTION", "num_virtual_tokens": VIRTUAL_TOKENS,
        "token_dim": HIDDEN, "num_transformer_submodules": 1, "num_attention_heads": HEADS, "num_layers": LAYERS,
        "base_model_name_or_path": "tiny-mpnet", "inference_mode": True, "prompt_tuning_init": "RANDOM"})
    write_safetensors(os.path.join(adapter, "adapter_model.safetensors"), {"prompt_embeddings": prompt})
    prompt64 = read_safetensors(os.path.join(adapter, "adapter_model.safetensors"), torch.float64)["prompt_embeddings"]

    base, include, exclude = [], [], []
    for ids in ids_per_text:
        base.append(sentence_embedding(model.token_embeddings(ids)).tolist())
        prompted = model.token_embeddings(ids, prompt64)
        include.append(sentence_embedding(prompted).tolist())
        exclude.append(sentence_embedding(prompted, VIRTUAL_TOKENS).tolist())
    write_json(os.path.join(root, "reference.json"), {
        "texts": TEXTS, "ids": ids_per_text, "virtual_tokens": VIRTUAL_TOKENS,
        "bucket_distances": [int(d) for d in distances], "buckets": [int(b) for b in buckets],
        "base": base, "prompt_include": include, "prompt_exclude": exclude})

    with open(os.path.join(root, "README.md"), "w", encoding="utf-8") as f:
        f.write(FIXTURE_README)

    total = sum(os.path.getsize(os.path.join(d, f)) for d, _, files in os.walk(root) for f in files)
    print("wrote %s: vocabulary %d, %d bytes in all" % (root, vocab_size, total))
    if total >= 2 * 1024 * 1024:
        sys.exit("fixtures must stay under 2 MB")


if __name__ == "__main__":
    main()
