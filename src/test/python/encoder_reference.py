"""XLM-RoBERTa and DistilBERT sentence encoders written from the libraries' own source lines, for reference vectors.

Like bert_reference.py it shares nothing with the Java code: plain torch operations, one text at a time, unpadded.
Each rule cites where it comes from:

  src/transformers/models/xlm_roberta/modeling_xlm_roberta.py at commit 015bfeb8 (a 4.4x release; the classes are
  "Copied from" modeling_roberta.py)
    XLMRobertaEmbeddings.forward, lines 94-132: position ids from create_position_ids_from_input_ids when input_ids
        are given, else from create_position_ids_from_inputs_embeds; token_type_ids default to zeros;
        embeddings = inputs_embeds + token_type_embeddings, then += position_embeddings(position_ids); LayerNorm
        (config.layer_norm_eps)
    create_position_ids_from_inputs_embeds, lines 134-149: torch.arange(padding_idx + 1, sequence_length +
        padding_idx + 1) for every row, whatever the padding ("We cannot infer which are padded")
    create_position_ids_from_input_ids (end of the file): mask = input_ids.ne(padding_idx);
        (cumsum(mask) + past_key_values_length) * mask + padding_idx
    XLMRobertaSelfAttention / SelfOutput / Intermediate / Output: BERT's, under BERT's names (encoder.layer.N.
        attention.self.query ...): scores = q k^T / sqrt(d) + mask, softmax, @ v; dense + residual, LayerNorm
  src/transformers/models/distilbert/modeling_distilbert.py (4.36; the rules are unchanged in later releases)
    Embeddings.forward (lines 120-138): input_embeds = word_embeddings(input_ids) unless given;
        position_ids = self.position_ids[:, :seq_length]; embeddings = input_embeds + position_embeddings;
        LayerNorm(eps=1e-12); no token types
    MultiHeadSelfAttention.forward: q = q_lin(x) / sqrt(dim_per_head); scores = q k^T, masked_fill where mask == 0;
        softmax; context @ v; out_lin
    TransformerBlock.forward: sa = sa_layer_norm(attention(x) + x); out = output_layer_norm(ffn(sa) + sa), both
        LayerNorm(eps=1e-12); FFN.ff_chunk: lin2(activation(lin1(x)))
  PEFT v0.20.0 src/peft/peft_model.py, PeftModelForFeatureExtraction.forward (prompt learning): inputs_embeds =
        cat(prompt, word_embeddings(input_ids)), the mask gets M ones in front, token_type_ids and position_ids are
        dropped; the base model is called with inputs_embeds only.
  sentence-transformers models/Pooling.py: CLS takes position 0, mean divides the masked sum by the mask count;
        models/Normalize.py: L2 normalisation.

Trust comes from the anchor in make_tiny_encoders.py: rewritten as the BERT they are equivalent to, both models give
bert_reference.py's token embeddings.
"""

import json
import math
import os

import torch

from bert_reference import read_safetensors


class SentenceEncoderReference:
    """A sentence-transformers directory of model_type xlm-roberta, roberta or distilbert."""

    def __init__(self, directory, dtype=torch.float64):
        with open(os.path.join(directory, "config.json")) as f:
            c = json.load(f)
        self.model_type = c["model_type"]
        self.dtype = dtype
        self.w = read_safetensors(os.path.join(directory, "model.safetensors"), dtype)
        with open(os.path.join(directory, "modules.json")) as f:
            modules = json.load(f)
        pooling_dir = next(m["path"] for m in modules if m["type"].endswith("Pooling"))
        with open(os.path.join(directory, pooling_dir, "config.json")) as f:
            pooling = json.load(f)
        self.cls = pooling.get("pooling_mode_cls_token", False)
        self.normalize = any(m["type"].endswith("Normalize") for m in modules)
        if self.model_type == "distilbert":
            self.hidden, self.heads, self.layers = c["dim"], c["n_heads"], c["n_layers"]
            self.eps = 1e-12
            act = c.get("activation", "gelu")
        elif self.model_type in ("xlm-roberta", "roberta"):
            self.hidden, self.heads, self.layers = c["hidden_size"], c["num_attention_heads"], c["num_hidden_layers"]
            self.eps = c.get("layer_norm_eps", 1e-12)
            self.pad = c["pad_token_id"]
            act = c.get("hidden_act", "gelu")
        else:
            raise ValueError(f"{directory}: model_type {self.model_type} is not covered here")
        if act != "gelu":
            raise ValueError(f"{directory}: activation {act} is not covered here")

    def _linear(self, x, module):
        return torch.nn.functional.linear(x, self.w[module + ".weight"], self.w[module + ".bias"])

    def _layer_norm(self, x, module):
        return torch.nn.functional.layer_norm(x, (self.hidden,), self.w[module + ".weight"], self.w[module + ".bias"],
                                              self.eps)

    def _attention(self, x, q_name, k_name, v_name):
        n, d = x.shape[0], self.hidden // self.heads
        q = self._linear(x, q_name).view(n, self.heads, d).transpose(0, 1)
        k = self._linear(x, k_name).view(n, self.heads, d).transpose(0, 1)
        v = self._linear(x, v_name).view(n, self.heads, d).transpose(0, 1)
        scores = (q / math.sqrt(d)) @ k.transpose(-1, -2)  # one text, unpadded: every key is attended
        return (torch.softmax(scores, dim=-1) @ v).transpose(0, 1).reshape(n, self.hidden)

    def token_embeddings(self, ids, prompt=None):
        """Last hidden state [M + N, H] of one unpadded text; prompt is None or the adapter's [M, H] table."""
        ids_t = torch.tensor(ids, dtype=torch.long)
        x = self.w["embeddings.word_embeddings.weight"][ids_t]
        if prompt is not None:
            x = torch.cat([prompt.to(self.dtype), x], dim=0)
        length = x.shape[0]
        if self.model_type == "distilbert":
            x = x + self.w["embeddings.position_embeddings.weight"][torch.arange(length)]
            x = self._layer_norm(x, "embeddings.LayerNorm")
            for i in range(self.layers):
                pre = f"transformer.layer.{i}."
                context = self._attention(x, pre + "attention.q_lin", pre + "attention.k_lin", pre + "attention.v_lin")
                sa = self._layer_norm(self._linear(context, pre + "attention.out_lin") + x, pre + "sa_layer_norm")
                inner = torch.nn.functional.gelu(self._linear(sa, pre + "ffn.lin1"))
                x = self._layer_norm(self._linear(inner, pre + "ffn.lin2") + sa, pre + "output_layer_norm")
            return x
        if prompt is None:
            mask = ids_t.ne(self.pad).long()
            positions = torch.cumsum(mask, dim=0) * mask + self.pad
        else:
            positions = torch.arange(self.pad + 1, length + self.pad + 1)
        x = x + self.w["embeddings.token_type_embeddings.weight"][0]
        x = x + self.w["embeddings.position_embeddings.weight"][positions]
        x = self._layer_norm(x, "embeddings.LayerNorm")
        for i in range(self.layers):
            pre = f"encoder.layer.{i}."
            context = self._attention(x, pre + "attention.self.query", pre + "attention.self.key",
                                      pre + "attention.self.value")
            attended = self._layer_norm(self._linear(context, pre + "attention.output.dense") + x,
                                        pre + "attention.output.LayerNorm")
            inner = torch.nn.functional.gelu(self._linear(attended, pre + "intermediate.dense"))
            x = self._layer_norm(self._linear(inner, pre + "output.dense") + attended, pre + "output.LayerNorm")
        return x

    def sentence_embedding(self, ids, prompt=None, include_virtual=True):
        """Pooled (and normalised, if the model says so) vector; without include_virtual only real tokens pool."""
        tokens = self.token_embeddings(ids, prompt)
        m = 0 if prompt is None or include_virtual else prompt.shape[0]
        kept = tokens[m:]
        pooled = kept[0] if self.cls else kept.sum(0) / max(float(kept.shape[0]), 1e-9)
        return torch.nn.functional.normalize(pooled, p=2, dim=0) if self.normalize else pooled
