#!/usr/bin/python3
"""Writes LoRA adapters and reference vectors under src/test/resources/fixtures/lora/.

Run once, by hand, with Debian's torch and numpy (apt-get install python3-torch; torch 1.13) and PEFT's source at
the release whose rules we follow (no PEFT, transformers or safetensors package is needed or imported):

    git clone --branch v0.20.0 https://github.com/huggingface/peft /tmp/peft-v0.20.0
    # inputs.json (texts and the real tokenizer's ids) and the model directories come from the JVM side:
    java -cp target/test-classes:target/classes:<test classpath> dev.peftembed.testkit.LoraFixtures \
        src/test/resources/fixtures/lora
    /usr/bin/python3 src/test/python/make_lora_references.py --peft-src /tmp/peft-v0.20.0 \
        --model all-MiniLM-L6-v2=<dir> --model bge-small-en-v1.5=<dir>

For every model it writes, next to inputs.json:

  <case>/adapter_config.json, <case>/adapter_model.safetensors
                    a LoRA adapter in PEFT's save_pretrained layout, with seeded weights (lora_B non-zero, unlike
                    PEFT's init, so that the low-rank term shows in the vectors)
  reference.json    the sentence embeddings of every text for the base model and for every case, computed here in
                    float64, and per case the modules PEFT's own matching code adapts with their scales

The reference shares nothing with the Java code. Which modules are adapted, and with which rank and alpha, is decided
by PEFT's own functions (check_target_module_exists, match_target_against_key, get_pattern_key), taken from the
release's source files by name and executed alone. The forward, LoRA's term included, is bert_reference.py's, in
float64: BERT from transformers' modeling_bert.py, LoRA from PEFT's lora/layer.py, pooling and Normalize from
sentence-transformers. Texts run one at a time, unpadded, so no attention mask enters.
"""

import argparse
import ast
import json
import math
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bert_reference import SentenceBert, write_safetensors  # noqa: E402

PEFT_TAG = "v0.20.0"

def peft_functions(peft_src):
    """PEFT's target and pattern matching, run as PEFT's own code.

    The package cannot be imported here (it imports transformers and accelerate), so the definitions are cut from
    the release's files by name and executed in a namespace holding only what they use.
    """
    wanted = {
        "src/peft/tuners/tuners_utils.py": ["_ExcludedModule", "check_target_module_exists"],
        "src/peft/utils/other.py": ["match_target_against_key", "get_pattern_key"],
    }
    namespace = {"re": __import__("re")}
    for rel, names in wanted.items():
        source = open(os.path.join(peft_src, rel)).read()
        tree = ast.parse(source)
        nodes = [n for n in tree.body if isinstance(n, (ast.FunctionDef, ast.ClassDef)) and n.name in names]
        missing = set(names) - {n.name for n in nodes}
        if missing:
            sys.exit(f"{rel} at {peft_src} lacks {sorted(missing)}: not PEFT {PEFT_TAG}?")
        module = ast.Module(body=[ast.parse("from __future__ import annotations").body[0]] + nodes, type_ignores=[])
        exec(compile(module, os.path.join(peft_src, rel), "exec"), namespace)
    return namespace["check_target_module_exists"], namespace["get_pattern_key"]


def module_tree(config):
    """BertModel.named_modules(), each with its kind and a linear module's (in, out): modeling_bert.py's BertEmbeddings,
    BertEncoder.layer (a ModuleList of BertLayer), BertAttention(self: BertSelfAttention, output: BertSelfOutput),
    BertIntermediate (dense, intermediate_act_fn), BertOutput, BertPooler (dense, activation)."""
    h, i = config["hidden_size"], config["intermediate_size"]
    tree = [("embeddings", None)]
    tree += [(f"embeddings.{t}", "embedding") for t in ("word_embeddings", "position_embeddings",
                                                          "token_type_embeddings")]
    tree += [("embeddings.LayerNorm", None), ("embeddings.dropout", None), ("encoder", None), ("encoder.layer", None)]
    for layer in range(config["num_hidden_layers"]):
        p = f"encoder.layer.{layer}"
        tree += [(p, None), (p + ".attention", None), (p + ".attention.self", None)]
        tree += [(f"{p}.attention.self.{n}", ("linear", h, h)) for n in ("query", "key", "value")]
        tree += [(p + ".attention.self.dropout", None), (p + ".attention.output", None),
                 (p + ".attention.output.dense", ("linear", h, h)), (p + ".attention.output.LayerNorm", None),
                 (p + ".attention.output.dropout", None), (p + ".intermediate", None),
                 (p + ".intermediate.dense", ("linear", h, i)), (p + ".intermediate.intermediate_act_fn", None),
                 (p + ".output", None), (p + ".output.dense", ("linear", i, h)), (p + ".output.LayerNorm", None),
                 (p + ".output.dropout", None)]
    tree += [("pooler", None), ("pooler.dense", ("linear", h, h)), ("pooler.activation", None)]
    return tree


class Config:
    """The attributes check_target_module_exists reads, as LoraConfig.__post_init__ leaves them (lists become sets,
    peft/tuners/lora/config.py:914-919)."""

    def __init__(self, saved):
        t = saved["target_modules"]
        self.target_modules = set(t) if isinstance(t, list) else t
        e = saved.get("exclude_modules")
        self.exclude_modules = set(e) if isinstance(e, list) else e
        self.modules_to_save = saved.get("modules_to_save")
        self.target_parameters = saved.get("target_parameters")
        self.layers_to_transform = saved.get("layers_to_transform")
        self.layers_pattern = saved.get("layers_pattern")


def adapted_modules(saved, tree, check, pattern_key):
    """module -> (r, alpha, scale) for every module PEFT wraps, or SystemExit where PEFT raises."""
    config = Config(saved)
    out = {}
    for name, kind in tree:
        if not check(config, name):
            continue
        if kind is None or kind == "embedding":
            sys.exit(f"target_modules selects {name}, which this generator does not adapt")
        # peft/tuners/lora/model.py:217-220
        r = saved["rank_pattern"].get(pattern_key(saved["rank_pattern"].keys(), name), saved["r"])
        alpha = saved["alpha_pattern"].get(pattern_key(saved["alpha_pattern"].keys(), name), saved["lora_alpha"])
        # peft/tuners/lora/layer.py:274-277
        scale = alpha / math.sqrt(r) if saved["use_rslora"] else alpha / r
        out[name] = (kind[1], kind[2], r, alpha, scale)
    if not out:
        sys.exit(f"target_modules {saved['target_modules']} matches nothing")
    return out


def saved_config(model_name, **fields):
    """adapter_config.json as PEFT 0.20's LoraConfig.to_dict() saves it for a FEATURE_EXTRACTION adapter."""
    config = {
        "alora_invocation_tokens": None, "alpha_pattern": {}, "arrow_config": None, "auto_mapping": None,
        "base_model_name_or_path": f"sentence-transformers/{model_name}" if "MiniLM" in model_name
        else f"BAAI/{model_name}", "bias": "none", "corda_config": None, "ensure_weight_tying": False,
        "eva_config": None, "exclude_modules": None, "fan_in_fan_out": False, "inference_mode": True,
        "init_lora_weights": True, "layer_replication": None, "layers_pattern": None, "layers_to_transform": None,
        "loftq_config": {}, "lora_alpha": 8, "lora_bias": False, "lora_dropout": 0.1, "megatron_config": None,
        "megatron_core": "megatron.core", "modules_to_save": None, "peft_type": "LORA", "peft_version": "0.20.0",
        "qalora_group_size": 16, "r": 8, "rank_pattern": {}, "revision": None, "target_modules": ["query", "value"],
        "target_parameters": None, "task_type": "FEATURE_EXTRACTION", "trainable_token_indices": None,
        "use_dora": False, "use_qalora": False, "use_rslora": False,
    }
    config.update(fields)
    return config


def cases(model_name, layers):
    """The LoRA cases: (name, key layout, adapter_config fields). "peft" keys carry PeftModel's base_model.model.
    prefix, "hf" keys are transformers' adapter integration's, without it."""
    last = layers - 1
    return [
        ("qv-peft", "peft", dict(target_modules=["query", "value"], r=8, lora_alpha=16)),
        ("all-linear-hf", "hf", dict(target_modules=["query", "key", "value", "dense"], r=4, lora_alpha=8)),
        ("regex-peft", "peft", dict(target_modules=r"encoder\.layer\.[0-2]\.attention\.self\.(query|key)"
                                                   r"|.*\.intermediate\.dense", r=4, lora_alpha=4)),
        ("rslora-hf", "hf", dict(target_modules=["key", "attention.output.dense"], r=16, lora_alpha=8,
                                 use_rslora=True)),
        ("patterns-peft", "peft", dict(
            target_modules=["query", "value", "output.dense"], r=8, lora_alpha=8,
            rank_pattern={"encoder.layer.0.attention.self.query": 2, "query": 12, r"layer\.[1-3]\.output\.dense": 4},
            alpha_pattern={"value": 32, r"attention\.output\.dense": 2})),
        ("layers-hf", "hf", dict(target_modules=["query", "value", "intermediate.dense"], r=8, lora_alpha=16,
                                 layers_to_transform=[0, layers // 2, last], layers_pattern="layer")),
        ("bias-all-peft", "peft", dict(target_modules=["value"], r=4, lora_alpha=8, layers_to_transform=1,
                                       bias="all", lora_bias=True)),
    ]


def lora_weights(modules, saved, weights, tree, rng):
    """Seeded LoRA weights for the adapted modules and, under bias="all", trained biases for every bias parameter.

    lora_A is drawn as PEFT initialises it (kaiming_uniform with a=√5: U(±1/√in)); lora_B, which PEFT starts at
    zero, is drawn from N(0, 0.05) so that the low-rank term moves the vectors. Returns (lora, biases, tensors):
    module -> (A, B, b_B or None, scale); parameter -> bias replacing the model's; the state dict PEFT would save,
    keys without the layout prefix.
    """
    lora, biases, tensors = {}, {}, {}
    for name, (fan_in, fan_out, r, _alpha, scale) in modules.items():
        a = rng.uniform(-1 / math.sqrt(fan_in), 1 / math.sqrt(fan_in), size=(r, fan_in))
        b = rng.normal(0, 0.05, size=(fan_out, r))
        b_bias = rng.normal(0, 0.02, size=(fan_out,)) if saved["lora_bias"] else None
        tensors[f"{name}.lora_A.weight"] = a
        tensors[f"{name}.lora_B.weight"] = b
        if b_bias is not None:
            tensors[f"{name}.lora_B.bias"] = b_bias
        lora[name] = (a, b, b_bias, scale)
    if saved["bias"] == "all":
        # peft/utils/save_and_load.py:174-175: every parameter whose name holds "bias"; an adapted module's own
        # bias is named <module>.base_layer.bias (the LoRA layer wraps the original as base_layer)
        for name, kind in tree:
            if kind is None and not name.endswith("LayerNorm"):
                continue
            if kind == "embedding":
                continue
            parameter = f"{name}.bias"
            width = kind[2] if kind else weights[f"{name}.weight"].shape[0]
            stored = weights.get(parameter, np.zeros(width))
            trained = stored + rng.normal(0, 0.02, size=stored.shape)
            biases[parameter] = trained
            tensors[f"{name}.base_layer.bias" if name in modules else parameter] = trained
    return lora, biases, tensors


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--peft-src", required=True, help=f"a checkout of huggingface/peft at {PEFT_TAG}")
    parser.add_argument("--model", action="append", required=True, help="NAME=DIR of a sentence-transformers model")
    parser.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "..", "resources", "fixtures",
                                                      "lora"))
    args = parser.parse_args()
    check, pattern_key = peft_functions(args.peft_src)
    torch.set_grad_enabled(False)
    for spec in args.model:
        name, model_dir = spec.split("=", 1)
        out = os.path.join(args.out, name)
        inputs = json.load(open(os.path.join(out, "inputs.json")))
        model = SentenceBert(model_dir, torch.float64)
        config = model.config
        weights = {k: v.numpy() for k, v in model.w.items()}
        tree = module_tree(config)

        def embed(lora, biases):
            terms = {m: tuple(None if t is None else torch.from_numpy(t) for t in v[:3]) + (v[3],)
                     for m, v in lora.items()}
            overrides = {p: torch.from_numpy(v) for p, v in biases.items()}
            # ten significant digits: 1e-10 relative, far below the 1e-5 the tests allow, and half the bytes
            return [[float(f"{x:.10g}") for x in model.sentence_embedding(ids, lora=terms, overrides=overrides)]
                    for ids in inputs["ids"]]

        base = embed({}, {})
        reference = {"model": name, "peft": PEFT_TAG, "base": base, "cases": {}}
        for index, (case, layout, fields) in enumerate(cases(name, config["num_hidden_layers"])):
            saved = saved_config(name, **fields)
            modules = adapted_modules(saved, tree, check, pattern_key)
            rng = np.random.RandomState(1000 * (1 + index) + config["num_hidden_layers"])
            lora, biases, tensors = lora_weights(modules, saved, weights, tree, rng)
            prefix = "base_model.model." if layout == "peft" else ""
            case_dir = os.path.join(out, case)
            os.makedirs(case_dir, exist_ok=True)
            with open(os.path.join(case_dir, "adapter_config.json"), "w") as f:
                json.dump(saved, f, indent=2, sort_keys=True)
                f.write("\n")
            write_safetensors(os.path.join(case_dir, "adapter_model.safetensors"),
                              {prefix + k: v for k, v in tensors.items()})
            # The reference uses the weights as the JVM will read them: rounded to float32 by the file.
            lora = {m: tuple(None if t is None else t.astype(np.float32).astype(np.float64) for t in v[:3]) + (v[3],)
                    for m, v in lora.items()}
            biases = {p: v.astype(np.float32).astype(np.float64) for p, v in biases.items()}
            vectors = embed(lora, biases)
            cosines = [float(np.dot(a, b)) for a, b in zip(vectors, base)]
            reference["cases"][case] = {"vectors": vectors,
                                        "scales": {m: v[4] for m, v in modules.items()},
                                        "min_cosine_to_base": min(cosines)}
            print(f"{name} {case}: {len(modules)} modules, min cosine to base {min(cosines):.4f}")
        with open(os.path.join(out, "reference.json"), "w") as f:
            f.write(json.dumps(reference, separators=(",", ":")) + "\n")
        print(f"{name}: {len(base)} texts, wrote {out}")


if __name__ == "__main__":
    main()
