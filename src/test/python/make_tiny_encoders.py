#!/usr/bin/python3
"""Writes tiny XLM-RoBERTa and DistilBERT fixtures, with reference vectors, under
src/test/resources/fixtures/tiny-encoders/.

Run once, by hand, with Debian's torch (torch 1.13, numpy; nothing else):

    /usr/bin/python3 src/test/python/make_tiny_encoders.py

The output is committed; neither the build nor CI runs this script. For each architecture:

  <arch>/st/        a sentence-transformers directory in the exact Hugging Face layout: config.json with the real
                    model_type and field names, model.safetensors under the real parameter names (seeded random
                    weights), tokenizer.json of the real tokenizer type (a SentencePiece Unigram with <s> ... </s> for
                    XLM-R, a WordPiece with [CLS] ... [SEP] for DistilBERT), modules.json, 1_Pooling (mean for XLM-R,
                    CLS for DistilBERT), 2_Normalize
  <arch>/adapter/   a PEFT prompt-tuning adapter, M = 4
  <arch>/texts.json the texts and the ids this script tokenized them to (the suites check the real tokenizer agrees)
  <arch>/expected-{base,include,exclude}.f32
                    [T, H] float32 reference vectors (encoder_reference.py, in float64): the base model, and the
                    adapter with virtual tokens pooled (include) or not (exclude)

Before writing anything, each model is anchored: rewritten as the BERT it is equivalent to, it must give
bert_reference.py's token embeddings (itself anchored to ONNX Runtime), base and prompt-tuned (the prompt as extra
rows of the word table, as ReferenceParitySuite does for ONNX Runtime).
"""

import json
import os
import shutil
import sys
import tempfile

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bert_reference import SentenceBert, truncate, write_f32, write_safetensors  # noqa: E402
from encoder_reference import SentenceEncoderReference  # noqa: E402
import make_tiny_prompt_bert as tiny_bert  # noqa: E402

HIDDEN = 32
LAYERS = 2
HEADS = 4
INTERMEDIATE = 64
VIRTUAL_TOKENS = 4
MAX_SEQ_LENGTH = 24
SEED = 20261204
SPIECE = "\u2581"

TEXTS = [
    "the quick brown fox jumps over the lazy dog",
    "a cat sits on the mat",
    "playing music in the park",
    "zebra",
    "what is the price of coffee?",
    "i love reading books, and my dog likes long walks in the rain every morning of the week all year",
    "two children play with a red ball outside",
    "hello",
    "the model writes vectors for texts",
    "snow falls on the old city at night",
]

XLMR_WORDS = """the a is of and or to in on at for with cat cats dog fox quick brown lazy over jump jumps sit sits mat
play music park what price coffee love read book books my like long walk rain every morning week year two child
children red ball outside model write vector text snow fall old city night hello an i all""".split()
XLMR_SUFFIXES = ["s", "ing", "ed", "er", "ly", "es", "ren"]
XLMR_CHARS = list("abcdefghijklmnopqrstuvwxyz0123456789.,?!'")


def xlmr_vocabulary(generator):
    """[piece, score] in id order: <s> <pad> </s> <unk> as fairseq numbers them, pieces, <mask> last (as XLM-R)."""
    pieces = [["<s>", 0.0], ["<pad>", 0.0], ["</s>", 0.0], ["<unk>", 0.0], [SPIECE, -4.0]]
    # Scores are log probabilities: whole words beat suffix splits, which beat spelling; small random offsets keep
    # every segmentation's total distinct, so Viterbi has a single best path.
    for w in XLMR_WORDS:
        pieces.append([SPIECE + w, -5.0 - float(torch.rand(1, generator=generator))])
    for s in XLMR_SUFFIXES:
        pieces.append([s, -7.0 - float(torch.rand(1, generator=generator))])
    for c in XLMR_CHARS:
        pieces.append([c, -9.0 - float(torch.rand(1, generator=generator))])
    pieces.append(["<mask>", 0.0])
    return pieces


def xlmr_tokenizer_json(pieces):
    """XLM-R's tokenizer.json shape: Metaspace pre-tokenizer, Unigram model, TemplateProcessing <s> $A </s>."""
    ids = {p: i for i, (p, _) in enumerate(pieces)}
    specials = ["<s>", "<pad>", "</s>", "<unk>", "<mask>"]
    added = [{"id": ids[t], "content": t, "single_word": False, "lstrip": t == "<mask>", "rstrip": False,
              "normalized": False, "special": True} for t in specials]
    return {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": added,
        "normalizer": None,
        "pre_tokenizer": {"type": "Metaspace", "replacement": SPIECE, "prepend_scheme": "always", "split": True},
        "post_processor": {
            "type": "TemplateProcessing",
            "single": [{"SpecialToken": {"id": "<s>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}},
                       {"SpecialToken": {"id": "</s>", "type_id": 0}}],
            "pair": [{"SpecialToken": {"id": "<s>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}},
                     {"SpecialToken": {"id": "</s>", "type_id": 0}}, {"SpecialToken": {"id": "</s>", "type_id": 0}},
                     {"Sequence": {"id": "B", "type_id": 0}}, {"SpecialToken": {"id": "</s>", "type_id": 0}}],
            "special_tokens": {"<s>": {"id": "<s>", "ids": [0], "tokens": ["<s>"]},
                               "</s>": {"id": "</s>", "ids": [2], "tokens": ["</s>"]}},
        },
        "decoder": {"type": "Metaspace", "replacement": SPIECE, "prepend_scheme": "always", "split": True},
        "model": {"type": "Unigram", "unk_id": 3, "vocab": pieces, "byte_fallback": False},
    }


def xlmr_tokenize(text, pieces):
    """<s> + Viterbi segmentation of each Metaspace word + </s>: the most probable split, as Unigram's encode."""
    score = {p: s for p, s in pieces[4:-1]}
    ids = {p: i for i, (p, _) in enumerate(pieces)}
    out = [0]
    for word in text.split(" "):
        w = SPIECE + word
        best = [(0.0, [])] + [None] * len(w)
        for end in range(1, len(w) + 1):
            for start in range(end):
                piece = w[start:end]
                if best[start] is not None and piece in score:
                    candidate = (best[start][0] + score[piece], best[start][1] + [piece])
                    if best[end] is None or candidate[0] > best[end][0]:
                        best[end] = candidate
        if best[-1] is None:
            raise ValueError(f"{word!r} has a character outside the fixture vocabulary")
        out += [ids[p] for p in best[-1][1]]
    return out + [2]


def wordpiece_tokenize(text, vocab):
    """[CLS] + greedy longest-match WordPiece of lower-cased words and punctuation + [SEP] (BertPreTokenizer)."""
    words = []
    for chunk in text.lower().split():
        word = ""
        for ch in chunk:
            if ch in tiny_bert.PUNCTUATION:
                if word:
                    words.append(word)
                words.append(ch)
                word = ""
            else:
                word += ch
        if word:
            words.append(word)
    out = [vocab["[CLS]"]]
    for word in words:
        start, pieces = 0, []
        while start < len(word):
            end = len(word)
            while end > start:
                piece = word[start:end] if start == 0 else "##" + word[start:end]
                if piece in vocab:
                    break
                end -= 1
            if end == start:
                pieces = [vocab["[UNK]"]]
                break
            pieces.append(vocab[piece])
            start = end
        out += pieces
    return out + [vocab["[SEP]"]]


def seeded(shape, name, generator):
    """The weight scales of make_tiny_prompt_bert.py: attention far from uniform, every module moving the result."""
    if "LayerNorm.weight" in name or "layer_norm.weight" in name:
        return 1.0 + 0.1 * torch.randn(shape, generator=generator)
    if name.endswith("bias"):
        return 0.05 * torch.randn(shape, generator=generator)
    if "embeddings" in name:
        return 0.5 * torch.randn(shape, generator=generator)
    return 0.1 * torch.randn(shape, generator=generator)


def xlmr_state(vocab_size, max_positions, generator):
    """XLMRobertaModel's parameter names and shapes (modeling_xlm_roberta.py), pooler left out as for BERT."""
    shapes = [("embeddings.word_embeddings.weight", [vocab_size, HIDDEN]),
              ("embeddings.position_embeddings.weight", [max_positions, HIDDEN]),
              ("embeddings.token_type_embeddings.weight", [1, HIDDEN]),
              ("embeddings.LayerNorm.weight", [HIDDEN]), ("embeddings.LayerNorm.bias", [HIDDEN])]
    for i in range(LAYERS):
        p = f"encoder.layer.{i}."
        for name, out, inp in [("attention.self.query", HIDDEN, HIDDEN), ("attention.self.key", HIDDEN, HIDDEN),
                               ("attention.self.value", HIDDEN, HIDDEN), ("attention.output.dense", HIDDEN, HIDDEN),
                               ("intermediate.dense", INTERMEDIATE, HIDDEN), ("output.dense", HIDDEN, INTERMEDIATE)]:
            shapes += [(p + name + ".weight", [out, inp]), (p + name + ".bias", [out])]
        for norm in ["attention.output.LayerNorm", "output.LayerNorm"]:
            shapes += [(p + norm + ".weight", [HIDDEN]), (p + norm + ".bias", [HIDDEN])]
    return {name: seeded(shape, name, generator) for name, shape in shapes}


def distilbert_state(vocab_size, max_positions, generator):
    """DistilBertModel's parameter names and shapes (modeling_distilbert.py): no token types, no pooler."""
    shapes = [("embeddings.word_embeddings.weight", [vocab_size, HIDDEN]),
              ("embeddings.position_embeddings.weight", [max_positions, HIDDEN]),
              ("embeddings.LayerNorm.weight", [HIDDEN]), ("embeddings.LayerNorm.bias", [HIDDEN])]
    for i in range(LAYERS):
        p = f"transformer.layer.{i}."
        for name, out, inp in [("attention.q_lin", HIDDEN, HIDDEN), ("attention.k_lin", HIDDEN, HIDDEN),
                               ("attention.v_lin", HIDDEN, HIDDEN), ("attention.out_lin", HIDDEN, HIDDEN),
                               ("ffn.lin1", INTERMEDIATE, HIDDEN), ("ffn.lin2", HIDDEN, INTERMEDIATE)]:
            shapes += [(p + name + ".weight", [out, inp]), (p + name + ".bias", [out])]
        for norm in ["sa_layer_norm", "output_layer_norm"]:
            shapes += [(p + norm + ".weight", [HIDDEN]), (p + norm + ".bias", [HIDDEN])]
    return {name: seeded(shape, name, generator) for name, shape in shapes}


DISTIL_TO_BERT = [("attention.q_lin", "attention.self.query"), ("attention.k_lin", "attention.self.key"),
                  ("attention.v_lin", "attention.self.value"), ("attention.out_lin", "attention.output.dense"),
                  ("sa_layer_norm", "attention.output.LayerNorm"), ("ffn.lin1", "intermediate.dense"),
                  ("ffn.lin2", "output.dense"), ("output_layer_norm", "output.LayerNorm")]


def as_bert(state, model_type, pad, extra_rows):
    """The BERT a checkpoint is equivalent to. DistilBERT: renamed, with an all-zero token-type row. XLM-R: the
    position table shifted so that BERT's position p reads row pad + 1 + p. extra_rows (the prompt) are appended to
    the word table, so that ids V.. V+M-1 stand for the virtual tokens."""
    bert = {}
    for name, t in state.items():
        if model_type == "distilbert" and name.startswith("transformer.layer."):
            for old, new in DISTIL_TO_BERT:
                name = name.replace("." + old + ".", "." + new + ".")
            name = name.replace("transformer.layer.", "encoder.layer.")
        bert[name] = t
    if model_type == "distilbert":
        bert["embeddings.token_type_embeddings.weight"] = torch.zeros(2, HIDDEN)
    else:
        bert["embeddings.position_embeddings.weight"] = state["embeddings.position_embeddings.weight"][pad + 1:]
    if extra_rows is not None:
        bert["embeddings.word_embeddings.weight"] = torch.cat([bert["embeddings.word_embeddings.weight"], extra_rows])
    return bert


def write_json(path, value):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        json.dump(value, f, indent=2, ensure_ascii=False)
        f.write("\n")


def write_st(directory, config, state, tokenizer, cls):
    write_json(os.path.join(directory, "config.json"), config)
    write_safetensors(os.path.join(directory, "model.safetensors"), state)
    if tokenizer is not None:
        write_json(os.path.join(directory, "tokenizer.json"), tokenizer)
    write_json(os.path.join(directory, "modules.json"), [
        {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
        {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
        {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"}])
    write_json(os.path.join(directory, "sentence_bert_config.json"),
               {"max_seq_length": MAX_SEQ_LENGTH, "do_lower_case": False})
    write_json(os.path.join(directory, "1_Pooling", "config.json"), {
        "word_embedding_dimension": HIDDEN, "pooling_mode_cls_token": cls, "pooling_mode_mean_tokens": not cls,
        "pooling_mode_max_tokens": False, "pooling_mode_mean_sqrt_len_tokens": False,
        "pooling_mode_weightedmean_tokens": False, "pooling_mode_lasttoken": False, "include_prompt": True})
    os.makedirs(os.path.join(directory, "2_Normalize"), exist_ok=True)


def anchor(name, reference, state, model_type, pad, prompt, token_ids):
    """Our forward, rewritten as BERT, must give bert_reference.py's token embeddings, base and prompt-tuned."""
    with tempfile.TemporaryDirectory() as scratch:
        vocab_size = state["embeddings.word_embeddings.weight"].shape[0]
        bert_config = {"model_type": "bert", "hidden_size": HIDDEN, "num_hidden_layers": LAYERS,
                       "num_attention_heads": HEADS, "intermediate_size": INTERMEDIATE,
                       "max_position_embeddings": 64, "vocab_size": vocab_size + VIRTUAL_TOKENS,
                       "type_vocab_size": 2, "layer_norm_eps": reference.eps, "hidden_act": "gelu"}
        write_st(scratch, bert_config, as_bert(state, model_type, pad, prompt), None, False)
        bert = SentenceBert(scratch, torch.float64)
        worst = 0.0
        for ids in token_ids:
            worst = max(worst, (bert.token_embeddings(ids) - reference.token_embeddings(ids)).abs().max().item())
            virtual = list(range(vocab_size, vocab_size + VIRTUAL_TOKENS))
            want = bert.token_embeddings(virtual + ids)
            worst = max(worst, (want - reference.token_embeddings(ids, prompt.double())).abs().max().item())
    print(f"{name}: rewritten as BERT, bert_reference.py agrees to {worst:.2e}")
    if worst > 1e-12:
        sys.exit(f"{name}: the reference forward disagrees with bert_reference.py")


def write_architecture(root, name, config, state, tokenizer, token_ids, cls, generator):
    out = os.path.join(root, name)
    st = os.path.join(out, "st")
    write_st(st, config, state, tokenizer, cls)
    prompt = torch.randn(VIRTUAL_TOKENS, HIDDEN, generator=generator)  # PEFT's RANDOM init: nn.Embedding's N(0, 1)
    write_json(os.path.join(out, "adapter", "adapter_config.json"), {
        "peft_type": "PROMPT_TUNING", "task_type": "FEATURE_EXTRACTION", "num_virtual_tokens": VIRTUAL_TOKENS,
        "token_dim": HIDDEN, "num_transformer_submodules": 1, "num_attention_heads": HEADS, "num_layers": LAYERS,
        "base_model_name_or_path": config["_name_or_path"], "inference_mode": True, "prompt_tuning_init": "RANDOM"})
    write_safetensors(os.path.join(out, "adapter", "adapter_model.safetensors"), {"prompt_embeddings": prompt})

    reference = SentenceEncoderReference(st, torch.float64)
    anchor(name, reference, {k: v.double() for k, v in state.items()}, config["model_type"],
           config.get("pad_token_id", 0), prompt.double(), token_ids)
    # max_seq_length binds before the position table does, with or without the M virtual tokens
    kept = [truncate(ids, MAX_SEQ_LENGTH) for ids in token_ids]
    if not any(len(ids) > MAX_SEQ_LENGTH for ids in token_ids):
        sys.exit(f"{name}: no text is long enough to be truncated")
    write_f32(os.path.join(out, "expected-base.f32"), [reference.sentence_embedding(ids) for ids in kept])
    for policy, include in [("include", True), ("exclude", False)]:
        write_f32(os.path.join(out, f"expected-{policy}.f32"),
                  [reference.sentence_embedding(ids, prompt, include) for ids in kept])
    write_json(os.path.join(out, "texts.json"), {"texts": TEXTS, "ids": token_ids, "max_seq_length": MAX_SEQ_LENGTH,
                                                 "virtual_tokens": VIRTUAL_TOKENS})


def main():
    root = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "resources", "fixtures",
                                         "tiny-encoders"))
    if os.path.isdir(root):
        shutil.rmtree(root)
    generator = torch.Generator().manual_seed(SEED)

    pieces = xlmr_vocabulary(generator)
    xlmr_positions = 64 + 2  # fairseq's convention: the table starts after padding_idx, so it is 2 rows longer
    xlmr_config = {"architectures": ["XLMRobertaModel"], "model_type": "xlm-roberta", "hidden_size": HIDDEN,
                   "num_hidden_layers": LAYERS, "num_attention_heads": HEADS, "intermediate_size": INTERMEDIATE,
                   "max_position_embeddings": xlmr_positions, "vocab_size": len(pieces), "type_vocab_size": 1,
                   "layer_norm_eps": 1e-5, "hidden_act": "gelu", "pad_token_id": 1, "bos_token_id": 0,
                   "eos_token_id": 2, "position_embedding_type": "absolute", "_name_or_path": "tiny-xlm-roberta"}
    write_architecture(root, "xlm-roberta", xlmr_config, xlmr_state(len(pieces), xlmr_positions, generator),
                       xlmr_tokenizer_json(pieces), [xlmr_tokenize(t, pieces) for t in TEXTS], False, generator)

    vocab = tiny_bert.vocabulary()
    distil_config = {"architectures": ["DistilBertModel"], "model_type": "distilbert", "dim": HIDDEN,
                     "n_layers": LAYERS, "n_heads": HEADS, "hidden_dim": INTERMEDIATE, "max_position_embeddings": 64,
                     "vocab_size": len(vocab), "activation": "gelu", "sinusoidal_pos_embds": False, "dropout": 0.1,
                     "attention_dropout": 0.1, "pad_token_id": 0, "_name_or_path": "tiny-distilbert"}
    write_architecture(root, "distilbert", distil_config, distilbert_state(len(vocab), 64, generator),
                       tiny_bert.tokenizer_json(vocab), [wordpiece_tokenize(t, vocab) for t in TEXTS], True, generator)

    total = sum(os.path.getsize(os.path.join(d, f)) for d, _, files in os.walk(root) for f in files)
    print(f"wrote {root}: {total} bytes")
    if total >= 2 * 1024 * 1024:
        sys.exit("fixtures must stay under 2 MB")


if __name__ == "__main__":
    main()
