"""A BERT sentence encoder written from the libraries' own source lines, for reference vectors.

It shares nothing with the Java code: it reads a sentence-transformers directory with its own safetensors parser and
runs the forward pass with plain torch operations, one text at a time and unpadded, in float32 as the libraries do
or in float64. Adapters enter as PEFT applies them: a prefix as each layer's past keys and values, LoRA as a term
added to a linear layer's output. Each rule cites where it comes from:

  transformers v4.x  src/transformers/models/bert/modeling_bert.py
    BertEmbeddings.forward    position_ids = self.position_ids[:, past_key_values_length : seq_length + past_...]
                              token_type_ids default to the all-zero buffer; embeddings = words + types + positions,
                              then LayerNorm
    BertSelfAttention.forward with past_key_value: key_layer = torch.cat([past_key_value[0], key_layer], dim=2), the
                              same for values; scores = q @ k^T / sqrt(head_size) + attention_mask; softmax; @ v
    BertModel.forward         past_key_values_length = past_key_values[0][0].shape[2]; the extended mask is
                              (1.0 - mask[:, None, None, :]) * torch.finfo(dtype).min
    BertSelfOutput, BertIntermediate, BertOutput: dense, residual add, LayerNorm; "gelu" is the exact erf GELU
  PEFT v0.20.0  src/peft/tuners/lora/layer.py, Linear.forward: result + lora_B(lora_A(dropout(x))) * scaling, dropout
                              being the identity at inference; lora_B carries a bias under lora_bias
  sentence-transformers  sentence_transformers/models/Pooling.py (forward): CLS takes position 0; mean divides the
                              masked sum by the clamped (min 1e-9) mask count; models/Normalize.py:
                              torch.nn.functional.normalize(p=2, dim=1)

Trust comes from the suites, not from this file: its base-model vectors are checked against ONNX Runtime on the
original export before any adapter reference made with it is believed.
"""

import json
import math
import os
import struct

import torch

_DTYPES = {"F32": (torch.float32, 4), "F16": (torch.float16, 2), "BF16": (torch.bfloat16, 2), "I64": (torch.int64, 8)}
_MAX_HEADER = 100 * 1024 * 1024


def read_safetensors(path, dtype=torch.float32):
    """Returns {name: tensor} from a safetensors file: u64 header length, JSON header, raw little-endian data."""
    with open(path, "rb") as f:
        (length,) = struct.unpack("<Q", f.read(8))
        if length > _MAX_HEADER:
            raise ValueError(f"{path}: header of {length} bytes")
        header = json.loads(f.read(length))
        data = f.read()
    tensors = {}
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        stored, width = _DTYPES[entry["dtype"]]
        start, end = entry["data_offsets"]
        shape = entry["shape"]
        if end - start != width * math.prod(shape):
            raise ValueError(f"{path}: {name} holds {end - start} bytes for shape {shape}")
        t = torch.frombuffer(bytearray(data[start:end]), dtype=stored).reshape(shape)
        tensors[name] = t.to(dtype) if t.is_floating_point() else t
    return tensors


def write_safetensors(path, tensors):
    """Writes {name: tensor or array} as float32, names sorted, metadata {"format": "pt"}: what safetensors' save_file
    writes for a torch state dict."""
    header, blobs, offset = {"__metadata__": {"format": "pt"}}, [], 0
    for name in sorted(tensors):
        t = tensors[name]
        array = t.detach().cpu().numpy() if isinstance(t, torch.Tensor) else t
        blob = array.astype("<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(array.shape), "data_offsets": [offset, offset + len(blob)]}
        blobs.append(blob)
        offset += len(blob)
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * ((8 - len(text) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for blob in blobs:
            f.write(blob)


def write_f32(path, rows):
    """Writes a [T, D] float32 matrix as raw little-endian values, row-major."""
    with open(path, "wb") as f:
        f.write(torch.stack(rows).to(torch.float32).numpy().astype("<f4").tobytes())


class SentenceBert:
    """A sentence-transformers BERT directory: config.json, model.safetensors, modules.json, 1_Pooling/config.json."""

    def __init__(self, directory, dtype=torch.float32):
        with open(os.path.join(directory, "config.json")) as f:
            self.config = json.load(f)
        self.dtype = dtype
        self.w = read_safetensors(os.path.join(directory, "model.safetensors"), dtype)
        if not any(k.startswith("embeddings.") for k in self.w):
            self.w = {k.split(".", 1)[1]: v for k, v in self.w.items() if "." in k}
        with open(os.path.join(directory, "modules.json")) as f:
            modules = json.load(f)
        pooling_dir = next(m["path"] for m in modules if m["type"].endswith("Pooling"))
        with open(os.path.join(directory, pooling_dir, "config.json")) as f:
            pooling = json.load(f)
        self.cls = pooling.get("pooling_mode_cls_token", False)
        self.normalize = any(m["type"].endswith("Normalize") for m in modules)
        if not self.cls and not pooling.get("pooling_mode_mean_tokens", False):
            raise ValueError(f"{directory}: only CLS and mean pooling are covered here")
        c = self.config
        self.hidden = c["hidden_size"]
        self.heads = c["num_attention_heads"]
        self.layers = c["num_hidden_layers"]
        self.eps = c.get("layer_norm_eps", 1e-12)
        self.max_positions = c["max_position_embeddings"]
        if c.get("hidden_act", "gelu") != "gelu":
            raise ValueError(f"{directory}: hidden_act {c.get('hidden_act')} is not covered here")

    def token_embeddings(self, ids, past=None, lora=None, overrides=None):
        """Last hidden state [N, H] of one unpadded text.

        past: None, or per layer a (key, value) pair of [heads, P, head_size]: PEFT's prefix for that layer, after
        its get_prompt split (the batch axis dropped).
        lora: None, or {module name: (A [r, in], B [out, r], B's bias or None, scaling)}.
        overrides: None, or {parameter name: tensor} replacing the model's (biases an adapter trained).
        """
        lora = lora or {}
        overrides = overrides or {}

        def param(name):
            return overrides[name] if name in overrides else self.w[name]

        def linear(x, module):
            y = torch.nn.functional.linear(x, param(module + ".weight"), param(module + ".bias"))
            if module in lora:
                a, b, b_bias, scaling = lora[module]
                low = torch.nn.functional.linear(torch.nn.functional.linear(x, a), b, b_bias)
                y = y + low * scaling
            return y

        def layer_norm(x, module):
            return torch.nn.functional.layer_norm(x, (self.hidden,), param(module + ".weight"),
                                                  param(module + ".bias"), self.eps)

        n = len(ids)
        p = 0 if past is None else past[0][0].shape[1]
        d = self.hidden // self.heads
        ids_t = torch.tensor(ids, dtype=torch.long)
        x = (param("embeddings.word_embeddings.weight")[ids_t]
             + param("embeddings.token_type_embeddings.weight")[0]
             + param("embeddings.position_embeddings.weight")[p:p + n])
        x = layer_norm(x, "embeddings.LayerNorm")
        mask = torch.ones(p + n, dtype=self.dtype)
        bias = (1.0 - mask) * torch.finfo(self.dtype).min
        for i in range(self.layers):
            pre = f"encoder.layer.{i}."
            q = linear(x, pre + "attention.self.query").view(n, self.heads, d).transpose(0, 1)
            k = linear(x, pre + "attention.self.key").view(n, self.heads, d).transpose(0, 1)
            v = linear(x, pre + "attention.self.value").view(n, self.heads, d).transpose(0, 1)
            if past is not None:
                k = torch.cat([past[i][0], k], dim=1)
                v = torch.cat([past[i][1], v], dim=1)
            scores = q @ k.transpose(-1, -2) / math.sqrt(d) + bias
            context = (torch.softmax(scores, dim=-1) @ v).transpose(0, 1).reshape(n, self.hidden)
            attended = layer_norm(linear(context, pre + "attention.output.dense") + x,
                                        pre + "attention.output.LayerNorm")
            inner = torch.nn.functional.gelu(linear(attended, pre + "intermediate.dense"))
            x = layer_norm(linear(inner, pre + "output.dense") + attended, pre + "output.LayerNorm")
        return x

    def sentence_embedding(self, ids, past=None, lora=None, overrides=None):
        tokens = self.token_embeddings(ids, past, lora, overrides)
        pooled = tokens[0] if self.cls else tokens.sum(0) / max(float(len(ids)), 1e-9)
        return torch.nn.functional.normalize(pooled, p=2, dim=0) if self.normalize else pooled


def truncate(ids, limit):
    """Cuts [CLS] w1 .. wn [SEP] to at most `limit` ids, keeping [SEP]: what truncation=True does to one text."""
    return ids if len(ids) <= limit else ids[:limit - 1] + ids[-1:]
