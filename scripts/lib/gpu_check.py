"""The Python half of scripts/gpu-check: seeded checkpoints, corpora, the sentence-transformers + PEFT reference,
the parity comparison and sentence-transformers' speed. scripts/gpu-check calls one subcommand at a time.

On the GPU machine everything runs on the real transformers, sentence-transformers and peft. Where they are not
importable (the CPU rehearsal on a build machine), `checkpoints --fallback` writes the same files with numpy alone,
at the same dimensions and tensor names, and the reference steps are skipped by the caller.
"""

import argparse
import json
import os
import random
import shutil
import struct
import sys
import time

import numpy as np

SEED = 20261204
VIRTUAL_TOKENS = 16
MAX_SEQ_LENGTH = 256

# Random weights at the real dimensions: all-MiniLM-L6-v2 (mean pooling, as published) and a base-size BERT
# (CLS pooling, as BGE-base does).
MODELS = {
    "minilm": {"layers": 6, "hidden": 384, "heads": 12, "intermediate": 1536, "pooling": "mean"},
    "bertbase": {"layers": 12, "hidden": 768, "heads": 12, "intermediate": 3072, "pooling": "cls"},
}
VOCAB = 30522
MAX_POSITIONS = 512


def log(*parts):
    print("gpu_check.py:", *parts, file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------------------------------------------
# corpora


def words_of(tokenizer_dir):
    vocab = json.load(open(os.path.join(tokenizer_dir, "tokenizer.json"), encoding="utf-8"))["model"]["vocab"]
    return sorted(w for w in vocab if w.isalpha() and w.isascii() and len(w) > 1)


def sentence(rng, words, n):
    text = " ".join(rng.choice(words) for _ in range(n))
    return text[0].upper() + text[1:] + "."


def cmd_corpora(a):
    """short: 4-16 words; mixed: log-normal lengths, most short, some past the token limit; long: all past it;
    parity: a spread of lengths plus the edge cases (empty, one word, punctuation)."""
    rng = random.Random(SEED)
    words = words_of(a.tokenizer)
    lengths = {
        "short": lambda: rng.randint(4, 16),
        "mixed": lambda: min(400, max(2, int(rng.lognormvariate(3.2, 0.9)))),
        "long": lambda: rng.randint(260, 400),
    }
    os.makedirs(a.out, exist_ok=True)
    sizes = {"short": a.short, "mixed": a.mixed, "long": a.long}
    for kind, count in sizes.items():
        with open(os.path.join(a.out, kind + ".jsonl"), "w", encoding="utf-8") as f:
            for i in range(count):
                f.write(json.dumps({"id": i, "text": sentence(rng, words, lengths[kind]())}) + "\n")
    parity = ["", "word", "Hello, world! (Is this: punctuation?)"]
    while len(parity) < a.parity:
        parity.append(sentence(rng, words, rng.choice([2, 5, 10, 20, 40, 80, 160, 300])))
    with open(os.path.join(a.out, "parity.jsonl"), "w", encoding="utf-8") as f:
        for i, text in enumerate(parity):
            f.write(json.dumps({"id": i, "text": text}) + "\n")


# ---------------------------------------------------------------------------------------------------------------
# checkpoints


def st_configs(directory, name, pooling):
    """The sentence-transformers files that SentenceTransformer.save writes for Transformer + Pooling."""
    spec = MODELS[name]
    json.dump([{"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
               {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"}],
              open(os.path.join(directory, "modules.json"), "w"), indent=2)
    json.dump({"max_seq_length": MAX_SEQ_LENGTH, "do_lower_case": False},
              open(os.path.join(directory, "sentence_bert_config.json"), "w"), indent=2)
    os.makedirs(os.path.join(directory, "1_Pooling"), exist_ok=True)
    json.dump({"word_embedding_dimension": spec["hidden"], "pooling_mode_cls_token": pooling == "cls",
               "pooling_mode_mean_tokens": pooling == "mean", "pooling_mode_max_tokens": False,
               "pooling_mode_mean_sqrt_len_tokens": False, "pooling_mode_weightedmean_tokens": False,
               "pooling_mode_lasttoken": False, "include_prompt": True},
              open(os.path.join(directory, "1_Pooling", "config.json"), "w"), indent=2)


def bert_config(name):
    spec = MODELS[name]
    return {"architectures": ["BertModel"], "model_type": "bert", "vocab_size": VOCAB, "hidden_size": spec["hidden"],
            "num_hidden_layers": spec["layers"], "num_attention_heads": spec["heads"],
            "intermediate_size": spec["intermediate"], "hidden_act": "gelu", "max_position_embeddings": MAX_POSITIONS,
            "type_vocab_size": 2, "layer_norm_eps": 1e-12, "hidden_dropout_prob": 0.1,
            "attention_probs_dropout_prob": 0.1, "initializer_range": 0.02, "pad_token_id": 0}


def write_safetensors(path, tensors):
    header, offset, blobs = {}, 0, []
    for key, value in tensors.items():
        data = np.ascontiguousarray(value, dtype="<f4").tobytes()
        header[key] = {"dtype": "F32", "shape": list(value.shape), "data_offsets": [offset, offset + len(data)]}
        offset += len(data)
        blobs.append(data)
    raw = json.dumps(header).encode()
    raw += b" " * (-len(raw) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(raw)))
        f.write(raw)
        for blob in blobs:
            f.write(blob)


def fallback_checkpoint(directory, name, tokenizer):
    """The tensors a BertModel's save_pretrained writes, drawn as its initializer does (normal, std 0.02;
    LayerNorm ones and zeros), with numpy only."""
    spec = MODELS[name]
    rng = np.random.default_rng(SEED)
    h, i = spec["hidden"], spec["intermediate"]
    t = {}

    def normal(*shape):
        return (rng.standard_normal(shape, dtype=np.float32) * 0.02).astype(np.float32)

    def layer_norm(prefix):
        t[prefix + ".weight"] = np.ones(h, np.float32)
        t[prefix + ".bias"] = np.zeros(h, np.float32)

    t["embeddings.word_embeddings.weight"] = normal(VOCAB, h)
    t["embeddings.position_embeddings.weight"] = normal(MAX_POSITIONS, h)
    t["embeddings.token_type_embeddings.weight"] = normal(2, h)
    layer_norm("embeddings.LayerNorm")
    for n in range(spec["layers"]):
        p = "encoder.layer.%d." % n
        for part, (rows, cols) in {"attention.self.query": (h, h), "attention.self.key": (h, h),
                                   "attention.self.value": (h, h), "attention.output.dense": (h, h),
                                   "intermediate.dense": (i, h), "output.dense": (h, i)}.items():
            t[p + part + ".weight"] = normal(rows, cols)
            t[p + part + ".bias"] = np.zeros(rows, np.float32)
        layer_norm(p + "attention.output.LayerNorm")
        layer_norm(p + "output.LayerNorm")
    os.makedirs(directory, exist_ok=True)
    write_safetensors(os.path.join(directory, "model.safetensors"), t)
    json.dump(bert_config(name), open(os.path.join(directory, "config.json"), "w"), indent=2)
    for f in os.listdir(tokenizer):
        shutil.copy(os.path.join(tokenizer, f), directory)
    adapter = directory + "-adapter"
    os.makedirs(adapter, exist_ok=True)
    write_safetensors(os.path.join(adapter, "adapter_model.safetensors"),
                      {"prompt_embeddings": rng.standard_normal((VIRTUAL_TOKENS, h), dtype=np.float32)})
    json.dump({"peft_type": "PROMPT_TUNING", "task_type": "FEATURE_EXTRACTION", "num_virtual_tokens": VIRTUAL_TOKENS,
               "token_dim": h, "num_transformer_submodules": 1, "num_attention_heads": spec["heads"],
               "num_layers": spec["layers"], "prompt_tuning_init": "RANDOM", "base_model_name_or_path": directory},
              open(os.path.join(adapter, "adapter_config.json"), "w"), indent=2)


def real_checkpoint(directory, name, tokenizer):
    import torch
    from peft import PromptTuningConfig, TaskType, get_peft_model
    from sentence_transformers import SentenceTransformer, models
    from transformers import BertConfig, BertModel

    spec = MODELS[name]
    torch.manual_seed(SEED)
    hf = directory + "-hf"
    cfg = bert_config(name)
    bert = BertModel(BertConfig(**{k: v for k, v in cfg.items() if k not in ("architectures", "model_type")}),
                     add_pooling_layer=False)
    bert.save_pretrained(hf, safe_serialization=True)
    for f in os.listdir(tokenizer):
        shutil.copy(os.path.join(tokenizer, f), hf)
    word = models.Transformer(hf, max_seq_length=MAX_SEQ_LENGTH)
    pool = models.Pooling(spec["hidden"], pooling_mode=spec["pooling"])
    SentenceTransformer(modules=[word, pool], device="cpu").save(directory)
    shutil.rmtree(hf)
    # PEFT's own random initialisation of the virtual tokens, as a PromptTuningInit.RANDOM run starts.
    peft_model = get_peft_model(BertModel.from_pretrained(directory),
                                PromptTuningConfig(task_type=TaskType.FEATURE_EXTRACTION,
                                                   num_virtual_tokens=VIRTUAL_TOKENS))
    peft_model.save_pretrained(directory + "-adapter", safe_serialization=True)


def cmd_checkpoints(a):
    for name in a.models.split(","):
        directory = os.path.join(a.out, name)
        start = time.time()
        if a.fallback:
            fallback_checkpoint(directory, name, a.tokenizer)
            st_configs(directory, name, MODELS[name]["pooling"])
        else:
            real_checkpoint(directory, name, a.tokenizer)
        log("checkpoint %s (%s pooling, %d virtual tokens) in %.1f s" % (
            name, MODELS[name]["pooling"], VIRTUAL_TOKENS, time.time() - start))


# ---------------------------------------------------------------------------------------------------------------
# reference: sentence-transformers + PEFT


def load_st(model_dir, adapter_dir, device, dtype):
    import torch
    from peft import PeftModel
    from sentence_transformers import SentenceTransformer

    st = SentenceTransformer(model_dir, device=device)
    st[0].auto_model = PeftModel.from_pretrained(st[0].auto_model, adapter_dir)
    st.to(device)
    if dtype == "float16":
        st.half()
    st.eval()
    return st, torch


def read_texts(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line)["text"] for line in f if line.strip()]


def manual_pool(st, torch, texts, policy, pooling, batch_size=32):
    """PEFT's forward over the virtual and real tokens, pooled as our two policies define: include attends all
    M + N positions (CLS reads the first virtual token), exclude only the N real ones (CLS reads the real [CLS])."""
    m = st[0].auto_model.peft_config["default"].num_virtual_tokens
    out = []
    for start in range(0, len(texts), batch_size):
        features = st.tokenize(texts[start:start + batch_size])
        features = {k: v.to(st.device) for k, v in features.items()}
        with torch.inference_mode():
            hidden = st[0].auto_model(**features).last_hidden_state.float()
        mask = features["attention_mask"].float()
        if policy == "include":
            mask = torch.cat([torch.ones(mask.shape[0], m, device=mask.device), mask], dim=1)
        else:
            hidden = hidden[:, m:]
        if pooling == "cls":
            out.append(hidden[:, 0])
        else:
            out.append((hidden * mask.unsqueeze(-1)).sum(1) / mask.sum(1, keepdim=True))
    return torch.cat(out).cpu().numpy()


def cmd_reference(a):
    """Writes <name>-<policy>-<dtype>.npy. include is sentence-transformers' own encode where its Transformer
    extends the mask for PEFT prompt learning (>= 3.3), else the same pooling done by hand; exclude is by hand."""
    texts = read_texts(a.texts)
    notes = {}
    for name in a.models.split(","):
        for dtype in a.dtypes.split(","):
            st, torch = load_st(os.path.join(a.checkpoints, name), os.path.join(a.checkpoints, name + "-adapter"),
                                a.device, dtype)
            pooling = MODELS[name]["pooling"]
            for policy in ("include", "exclude"):
                how = "manual"
                vectors = None
                if policy == "include":
                    try:
                        vectors = st.encode(texts, batch_size=32, convert_to_numpy=True).astype(np.float32)
                        how = "sentence-transformers encode"
                    except RuntimeError as e:
                        log("%s include %s: encode failed (%s), pooling by hand" % (name, dtype, str(e)[:120]))
                if vectors is None:
                    vectors = manual_pool(st, torch, texts, policy, pooling)
                key = "%s-%s-%s" % (name, policy, dtype)
                np.save(os.path.join(a.out, key + ".npy"), vectors)
                notes[key] = how
            del st
            if a.device.startswith("cuda"):
                torch.cuda.empty_cache()
    import peft
    import sentence_transformers
    import transformers

    json.dump({"how": notes, "torch": torch.__version__, "transformers": transformers.__version__,
               "sentence_transformers": sentence_transformers.__version__, "peft": peft.__version__},
              open(os.path.join(a.out, "reference.json"), "w"), indent=2)


# ---------------------------------------------------------------------------------------------------------------
# compare


def read_ours(path):
    rows = [json.loads(line) for line in open(path, encoding="utf-8") if line.strip()]
    bad = [r for r in rows if r.get("embedding") is None]
    if bad:
        raise SystemExit("gpu_check.py: error: %s has %d rows without an embedding: %s" % (path, len(bad), bad[0]))
    return np.array([r["embedding"] for r in rows], dtype=np.float64), [r["num_tokens"] for r in rows]


def cosines(x, y):
    return (x * y).sum(1) / (np.linalg.norm(x, axis=1) * np.linalg.norm(y, axis=1))


def cmd_compare(a):
    """One parity row: ours against the reference, and how alike the reference's own vectors are, so that a high
    cosine is seen to mean something (random weights make all texts point roughly one way)."""
    ours, _ = read_ours(a.ours)
    ref = np.load(a.reference).astype(np.float64)
    if ours.shape != ref.shape:
        raise SystemExit("gpu_check.py: error: shapes differ: ours %s, reference %s" % (ours.shape, ref.shape))
    c = cosines(ours, ref)
    unit = ref / np.linalg.norm(ref, axis=1, keepdims=True)
    between = unit @ unit.T
    off = between[~np.eye(len(ref), dtype=bool)]
    row = {"check": a.label, "rows": len(ref), "min_cosine": float(c.min()), "mean_cosine": float(c.mean()),
           "max_abs_diff": float(np.abs(ours - ref).max()), "threshold": a.threshold,
           "reference_max_cosine_between_texts": float(off.max()), "pass": bool(c.min() >= a.threshold)}
    print(json.dumps(row))


def cmd_compare_ours(a):
    """Two of our own runs on the same texts, e.g. cpu against gpu: the third side of the triangle."""
    x, _ = read_ours(a.ours)
    y, _ = read_ours(a.other)
    c = cosines(x, y)
    print(json.dumps({"check": a.label, "rows": len(c), "min_cosine": float(c.min()),
                      "max_abs_diff": float(np.abs(x - y).max()), "threshold": a.threshold,
                      "pass": bool(c.min() >= a.threshold)}))


# ---------------------------------------------------------------------------------------------------------------
# speed of sentence-transformers + PEFT


def cmd_speed_st(a):
    """sentence-transformers encode at each batch size, after one warm-up pass over the first 512 texts; prints one
    JSON line per batch size. Tokens are the real tokens the tokenizer keeps, virtual ones not counted."""
    texts = read_texts(a.corpus)
    st, torch = load_st(os.path.join(a.checkpoints, a.model), os.path.join(a.checkpoints, a.model + "-adapter"),
                        a.device, a.dtype)
    tokens = sum(int(st.tokenize(texts[i:i + 1024])["attention_mask"].sum()) for i in range(0, len(texts), 1024))
    for batch_size in (int(b) for b in a.batch_sizes.split(",")):
        st.encode(texts[:512], batch_size=batch_size, convert_to_numpy=True)
        torch.cuda.synchronize()
        start = time.perf_counter()
        st.encode(texts, batch_size=batch_size, convert_to_numpy=True)
        torch.cuda.synchronize()
        seconds = time.perf_counter() - start
        print(json.dumps({"system": "sentence-transformers", "model": a.model, "dtype": a.dtype,
                          "corpus": os.path.basename(a.corpus).split(".")[0], "setting": "batch %d" % batch_size,
                          "texts": len(texts), "tokens": tokens, "seconds": seconds,
                          "texts_per_s": len(texts) / seconds, "tokens_per_s": tokens / seconds}), flush=True)


# ---------------------------------------------------------------------------------------------------------------
# summary


def flops_per_token(name, tokens_per_text):
    """Matrix products per token (README's estimate): L * (8 H^2 + 4 H I) + attention 4 L H per attended position."""
    s = MODELS[name]
    return 2 * s["layers"] * (4 * s["hidden"] ** 2 + 2 * s["hidden"] * s["intermediate"]) \
        + 4 * s["layers"] * s["hidden"] * (tokens_per_text + VIRTUAL_TOKENS)


def cmd_summary(a):
    parity = [json.loads(line) for line in open(a.parity)] if os.path.exists(a.parity) else []
    speed = [json.loads(line) for line in open(a.speed)] if os.path.exists(a.speed) else []
    info = json.load(open(a.info)) if os.path.exists(a.info) else {}
    runs = [json.loads(line) for line in open(a.runs)] if os.path.exists(a.runs) else []
    for row in speed:
        model = row["model"]
        row["tflops"] = row["tokens_per_s"] * flops_per_token(model, row["tokens"] / row["texts"]) / 1e12
        row["peak_fraction"] = row["tflops"] / a.peak_tflops
    json.dump({"info": info, "runs": runs, "parity": parity, "speed": speed, "peak_tflops": a.peak_tflops},
              open(os.path.join(a.out, "gpu-check.json"), "w"), indent=2)
    lines = ["# gpu-check", ""]
    for k, v in info.items():
        lines.append("- %s: %s" % (k, v))
    lines += ["", "## Our parity runs", "", "| run | rows | seconds after loading |", "|---|---|---|"]
    lines += ["| %s | %d | %s |" % (r["run"], r["rows"], r["seconds"]) for r in runs]
    lines += ["", "## Parity", "", "| check | rows | min cosine | mean cosine | max abs diff | threshold | ref. max "
              "cosine between texts | pass |", "|---|---|---|---|---|---|---|---|"]
    for r in parity:
        lines.append("| %s | %d | %.7f | %.7f | %.2e | %s | %s | %s |" % (
            r["check"], r["rows"], r["min_cosine"], r.get("mean_cosine", float("nan")), r["max_abs_diff"],
            r["threshold"], "%.4f" % r["reference_max_cosine_between_texts"]
            if "reference_max_cosine_between_texts" in r else "–", "yes" if r["pass"] else "**NO**"))
    lines += ["", "## Speed", "", "fraction of peak: model FLOPs (matrix products) per second over %g TFLOP/s"
              % a.peak_tflops, "", "| model | dtype | corpus | system | setting | texts | texts/s | tokens/s | "
              "TFLOP/s | of peak |", "|---|---|---|---|---|---|---|---|---|---|"]
    for r in sorted(speed, key=lambda r: (r["model"], r["dtype"], r["corpus"], r["system"], r["setting"])):
        lines.append("| %s | %s | %s | %s | %s | %d | %.0f | %.0f | %.1f | %.1f%% |" % (
            r["model"], r["dtype"], r["corpus"], r["system"], r["setting"], r["texts"], r["texts_per_s"],
            r["tokens_per_s"], r["tflops"], 100 * r["peak_fraction"]))
    open(os.path.join(a.out, "gpu-check.md"), "w").write("\n".join(lines) + "\n")
    failed = [r["check"] for r in parity if not r["pass"]]
    if failed:
        raise SystemExit("gpu_check.py: parity failed: " + ", ".join(failed))


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="command", required=True)
    c = sub.add_parser("corpora")
    c.add_argument("--tokenizer", required=True)
    c.add_argument("--out", required=True)
    c.add_argument("--short", type=int, default=20000)
    c.add_argument("--mixed", type=int, default=20000)
    c.add_argument("--long", type=int, default=4000)
    c.add_argument("--parity", type=int, default=64)
    c.set_defaults(run=cmd_corpora)
    c = sub.add_parser("checkpoints")
    c.add_argument("--tokenizer", required=True)
    c.add_argument("--out", required=True)
    c.add_argument("--models", default="minilm,bertbase")
    c.add_argument("--fallback", action="store_true")
    c.set_defaults(run=cmd_checkpoints)
    c = sub.add_parser("reference")
    c.add_argument("--checkpoints", required=True)
    c.add_argument("--texts", required=True)
    c.add_argument("--out", required=True)
    c.add_argument("--models", default="minilm,bertbase")
    c.add_argument("--dtypes", default="float32,float16")
    c.add_argument("--device", default="cuda")
    c.set_defaults(run=cmd_reference)
    c = sub.add_parser("compare")
    c.add_argument("--ours", required=True)
    c.add_argument("--reference", required=True)
    c.add_argument("--label", required=True)
    c.add_argument("--threshold", type=float, required=True)
    c.set_defaults(run=cmd_compare)
    c = sub.add_parser("compare-ours")
    c.add_argument("--ours", required=True)
    c.add_argument("--other", required=True)
    c.add_argument("--label", required=True)
    c.add_argument("--threshold", type=float, required=True)
    c.set_defaults(run=cmd_compare_ours)
    c = sub.add_parser("speed-st")
    c.add_argument("--checkpoints", required=True)
    c.add_argument("--model", required=True)
    c.add_argument("--corpus", required=True)
    c.add_argument("--dtype", required=True)
    c.add_argument("--batch-sizes", default="32,128,512")
    c.add_argument("--device", default="cuda")
    c.set_defaults(run=cmd_speed_st)
    c = sub.add_parser("summary")
    c.add_argument("--parity", required=True)
    c.add_argument("--speed", required=True)
    c.add_argument("--runs", required=True)
    c.add_argument("--info", required=True)
    c.add_argument("--out", required=True)
    c.add_argument("--peak-tflops", type=float, default=989.0)
    c.set_defaults(run=cmd_summary)
    a = p.parse_args()
    a.run(a)


if __name__ == "__main__":
    main()
