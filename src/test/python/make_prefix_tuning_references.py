#!/usr/bin/python3
"""Writes the prefix-tuning fixtures under src/test/resources/fixtures/prefix-tuning/.

Run by hand with Debian's torch (apt-get install python3-torch; torch 1.13), after one `mvn test` has unpacked the
real models into the peft-embed home:

    /usr/bin/python3 src/test/python/make_prefix_tuning_references.py \
        ~/.cache/peft-embed/models/all-MiniLM-L6-v2 ~/.cache/peft-embed/test-cache/bge-small-en-v1.5

The output is committed; neither the build nor CI runs this script.

Inputs: inputs/<model>.json holds texts and the ids the model's tokenizer.json gives them (by Hugging Face's
tokenizers, untruncated up to 512 ids); PrefixTuningParitySuite checks that those ids still come out of the tokenizer.

For each model:
  <model>/base.f32           the base model's sentence vectors, one row per text: the suites first check these against
                             ONNX Runtime on the original export, so that this reference earns its trust
  <model>/m<M>[-projected]/  a PEFT prefix-tuning adapter (adapter_config.json, adapter_model.safetensors) for
                             M = 8 and 20, with and without prefix_projection, and expected.f32: the vectors PEFT's
                             prefix tuning gives the texts

How PEFT v0.18.1 makes and uses the prefix (src/peft/...):
  tuners/prefix_tuning/model.py  PrefixEncoder: with prefix_projection an Embedding(M, token_dim) followed by
                                 Linear(token_dim, encoder_hidden_size), Tanh, Linear(encoder_hidden_size,
                                 num_layers * 2 * token_dim); without, an Embedding(M, num_layers * 2 * token_dim)
  peft_model.py                  get_prompt_embedding_to_save: the encoder's output for tokens 0..M-1 is what
                                 save_pretrained stores as "prompt_embeddings" (utils/save_and_load.py), so a
                                 projected prefix is saved projected; get_prompt in inference mode: that table
                                 .view(B, M, num_layers * 2, heads, token_dim // heads).permute([2, 0, 3, 1, 4])
                                 .split(2): layer l's keys are slot 2l, its values slot 2l + 1
                                 PeftModelForFeatureExtraction.forward: mask = cat(ones(B, M), mask); position and
                                 token-type ids dropped; past_key_values = get_prompt(B)
Real tokens: positions M..M+N-1 must fit max_position_embeddings, so they are cut to
min(max_seq_length, max_position_embeddings - M), as the encoder documents (plain transformers would fail instead).
"""

import json
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bert_reference import SentenceBert, truncate, write_f32, write_safetensors  # noqa: E402

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "resources", "fixtures", "prefix-tuning")
CASES = [(8, False), (8, True), (20, False), (20, True)]
ENCODER_HIDDEN = 512
SEED = 20261204


def prefix_table(model, m, projected, seed):
    """The table save_pretrained would write for a freshly initialised PrefixEncoder (seeded)."""
    torch.manual_seed(seed)
    width = model.layers * 2 * model.hidden
    if not projected:
        return torch.nn.Embedding(m, width).weight.detach().clone()
    embedding = torch.nn.Embedding(m, model.hidden)
    transform = torch.nn.Sequential(torch.nn.Linear(model.hidden, ENCODER_HIDDEN), torch.nn.Tanh(),
                                    torch.nn.Linear(ENCODER_HIDDEN, width))
    with torch.no_grad():
        return transform(embedding(torch.arange(m))).clone()


def past_key_values(model, table):
    """PEFT's get_prompt for batch size 1, as per-layer (key, value) pairs of [heads, M, head_size]."""
    m = table.shape[0]
    cut = table.view(1, m, model.layers * 2, model.heads, model.hidden // model.heads)
    layers = cut.permute([2, 0, 3, 1, 4]).split(2)
    return [(kv[0][0], kv[1][0]) for kv in layers]


def adapter_config(model_name, model, m, projected):
    return {
        "peft_type": "PREFIX_TUNING",
        "task_type": "FEATURE_EXTRACTION",
        "base_model_name_or_path": f"sentence-transformers/{model_name}",
        "num_virtual_tokens": m,
        "token_dim": model.hidden,
        "num_transformer_submodules": 1,
        "num_attention_heads": model.heads,
        "num_layers": model.layers,
        "encoder_hidden_size": ENCODER_HIDDEN,
        "prefix_projection": projected,
        "inference_mode": True,
        "revision": None,
        "peft_version": "0.18.1",
    }


def write_model(directory):
    name = os.path.basename(os.path.normpath(directory))
    model = SentenceBert(directory)
    with open(os.path.join(directory, "sentence_bert_config.json")) as f:
        max_seq_length = json.load(f)["max_seq_length"]
    with open(os.path.join(ROOT, "inputs", name + ".json")) as f:
        ids = json.load(f)["ids"]
    out = os.path.join(ROOT, name)
    os.makedirs(out, exist_ok=True)
    with torch.no_grad():
        write_f32(os.path.join(out, "base.f32"), [model.sentence_embedding(truncate(t, max_seq_length)) for t in ids])
        for i, (m, projected) in enumerate(CASES):
            case = os.path.join(out, f"m{m}" + ("-projected" if projected else ""))
            os.makedirs(case, exist_ok=True)
            table = prefix_table(model, m, projected, SEED + i)
            with open(os.path.join(case, "adapter_config.json"), "w") as f:
                json.dump(adapter_config(name, model, m, projected), f, indent=2)
                f.write("\n")
            write_safetensors(os.path.join(case, "adapter_model.safetensors"), {"prompt_embeddings": table})
            past = past_key_values(model, table)
            limit = min(max_seq_length, model.max_positions - m)
            write_f32(os.path.join(case, "expected.f32"),
                      [model.sentence_embedding(truncate(t, limit), past) for t in ids])
    print(f"{name}: {len(ids)} texts, {len(CASES)} adapters")


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    for directory in sys.argv[1:]:
        write_model(directory)


if __name__ == "__main__":
    main()
