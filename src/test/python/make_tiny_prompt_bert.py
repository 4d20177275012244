#!/usr/bin/python3
"""Writes the tiny prompt-tuned BERT fixtures under src/test/resources/fixtures/tiny-prompt-bert/.

Run once, by hand, with Debian's torch (apt-get install python3-torch; torch 1.13):

    /usr/bin/python3 src/test/python/make_tiny_prompt_bert.py

The output is committed; neither the build nor CI runs this script. Python is needed for nothing else.

One set of seeded weights (hidden 32, 2 layers, 2 heads, intermediate 64, 128 positions, a WordPiece vocabulary of
a few hundred lower-case tokens) is written several ways, so that the JVM can compare its TorchScript path with its
native path on the very same numbers:

  st/                    sentence-transformers directory: config.json, model.safetensors, tokenizer.json,
                         modules.json, sentence_bert_config.json, 1_Pooling/config.json (mean)
  adapter/               PEFT prompt-tuning adapter, M = 4: adapter_config.json, adapter_model.safetensors
  torchscript-prompt/    model.pt traced from PEFT's prompt-tuning forward: cat(prompt, word_emb(ids)), positions
                         0..M+N-1, type 0, mask = M ones ++ mask. It returns last_hidden_state [B, M+N, H], M longer
                         than the attention mask: the situation in which sentence-transformers' pooling failed.
                         With the st/ configs, config.json and adapter_config.json (declaring M).
  torchscript-plain/     model.pt traced from the base model with three inputs (ids, mask, token types), returning
                         the tuple (last_hidden_state, pooler_output) as Hugging Face's torchscript=True export does;
                         tokenizer.json and serving.properties (includeTokenTypes=true) only.
  torchscript-dict/      the base model with two inputs, returning a dict {last_hidden_state, pooler_output}.
  torchscript-hf-bert/   the base model traced as Hugging Face's BertModel is (class transformers.models.bert.
                         modeling_bert.BertModel, forward(input_ids, attention_mask, token_type_ids), a tuple out)
                         and shipped as such exports are: tokenizer.json and no serving.properties, so the inputs
                         must be read from the archive's code.
  torchscript-varying/   a scripted toy graph whose output is N + (N mod 3) - 1 positions long: the number of extra
                         positions changes with the input, and is negative for some lengths.

Safetensors files are written by hand (8-byte little-endian header length, JSON header, raw little-endian float32),
so no package beyond torch is needed.
"""

import json
import math
import os
import shutil
import struct
import sys

import torch
from torch import nn

HIDDEN = 32
LAYERS = 2
HEADS = 2
INTERMEDIATE = 64
MAX_POSITIONS = 128
TYPE_VOCAB = 2
LN_EPS = 1e-12
VIRTUAL_TOKENS = 4
MAX_SEQ_LENGTH = 128
SEED = 20261104

SPECIALS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
PUNCTUATION = list("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~")
WORDS = """
the a an is are was were be been of and or but not no to in on at for with from by as it its this that these those
there here he she they we you i me my your his her their our who what which when where why how all any some many
much more most one two three four five six seven eight nine ten first last new old good bad big small long short
man woman men women child children people person dog dogs cat cats bird horse fox food water tea coffee bread fruit
apple car bus train road city house home room door window table chair book books paper letter word words text texts
sentence language music song movie film game guitar piano ball snow rain sun sky tree trees park garden street shop
store market order price money bank job work school student teacher question answer problem list python java code
data model models vector vectors number numbers time day days night morning week year
eat eats eating ate play plays playing played ride rides riding run runs running walk walks walking sit sits sitting
read reads reading write writes writing sing sings make makes go goes going come comes see sees look looks know
think want like likes love loves use uses find get give take say says tell ask help change reverse flip jump jumps
quick brown lazy red blue green white black happy sad fast slow hot cold outside inside over under up down out
""".split()
SUFFIXES = ["##s", "##es", "##ed", "##ing", "##ly", "##er", "##est", "##ion", "##al", "##ness"]
LETTERS = [chr(c) for c in range(ord("a"), ord("z") + 1)]
DIGITS = [str(d) for d in range(10)]


def vocabulary():
    tokens = SPECIALS + PUNCTUATION + DIGITS + LETTERS + ["##" + c for c in LETTERS + DIGITS] + SUFFIXES
    for w in WORDS:
        if w not in tokens:
            tokens.append(w)
    return {t: i for i, t in enumerate(tokens)}


def tokenizer_json(vocab):
    """A BERT WordPiece tokenizer in the Hugging Face tokenizers format: lower case, [CLS] text [SEP]."""
    added = [{"id": vocab[t], "content": t, "single_word": False, "lstrip": False, "rstrip": False,
              "normalized": False, "special": True} for t in SPECIALS]
    cls, sep = vocab["[CLS]"], vocab["[SEP]"]
    return {
        "version": "1.0",
        "truncation": {"direction": "Right", "max_length": MAX_POSITIONS, "strategy": "LongestFirst", "stride": 0},
        "padding": None,
        "added_tokens": added,
        "normalizer": {"type": "BertNormalizer", "clean_text": True, "handle_chinese_chars": True,
                       "strip_accents": None, "lowercase": True},
        "pre_tokenizer": {"type": "BertPreTokenizer"},
        "post_processor": {
            "type": "TemplateProcessing",
            "single": [{"SpecialToken": {"id": "[CLS]", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}},
                       {"SpecialToken": {"id": "[SEP]", "type_id": 0}}],
            "pair": [{"SpecialToken": {"id": "[CLS]", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}},
                     {"SpecialToken": {"id": "[SEP]", "type_id": 0}}, {"Sequence": {"id": "B", "type_id": 1}},
                     {"SpecialToken": {"id": "[SEP]", "type_id": 1}}],
            "special_tokens": {"[CLS]": {"id": "[CLS]", "ids": [cls], "tokens": ["[CLS]"]},
                               "[SEP]": {"id": "[SEP]", "ids": [sep], "tokens": ["[SEP]"]}},
        },
        "decoder": {"type": "WordPiece", "prefix": "##", "cleanup": True},
        "model": {"type": "WordPiece", "unk_token": "[UNK]", "continuing_subword_prefix": "##",
                  "max_input_chars_per_word": 100, "vocab": vocab},
    }


class Embeddings(nn.Module):
    def __init__(self, vocab_size):
        super().__init__()
        self.word_embeddings = nn.Embedding(vocab_size, HIDDEN)
        self.position_embeddings = nn.Embedding(MAX_POSITIONS, HIDDEN)
        self.token_type_embeddings = nn.Embedding(TYPE_VOCAB, HIDDEN)
        self.LayerNorm = nn.LayerNorm(HIDDEN, eps=LN_EPS)

    def forward(self, inputs_embeds, token_type_ids=None):
        # Hugging Face's BertEmbeddings with inputs_embeds and no position ids: positions 0..L-1.
        positions = self.position_embeddings.weight[: inputs_embeds.size(1)].unsqueeze(0)
        if token_type_ids is None:
            types = self.token_type_embeddings.weight[0]
        else:
            types = self.token_type_embeddings(token_type_ids)
        return self.LayerNorm(inputs_embeds + positions + types)


class SelfAttention(nn.Module):
    def __init__(self):
        super().__init__()
        self.query = nn.Linear(HIDDEN, HIDDEN)
        self.key = nn.Linear(HIDDEN, HIDDEN)
        self.value = nn.Linear(HIDDEN, HIDDEN)

    def split(self, x):
        return x.view(x.size(0), x.size(1), HEADS, HIDDEN // HEADS).transpose(1, 2)

    def forward(self, x, mask_bias):
        q, k, v = self.split(self.query(x)), self.split(self.key(x)), self.split(self.value(x))
        scores = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(HIDDEN // HEADS) + mask_bias
        context = torch.matmul(torch.softmax(scores, dim=-1), v).transpose(1, 2)
        return context.reshape(x.size(0), x.size(1), HIDDEN)


class DenseNorm(nn.Module):
    """Hugging Face's BertSelfOutput / BertOutput: dense, residual add, LayerNorm."""

    def __init__(self, width):
        super().__init__()
        self.dense = nn.Linear(width, HIDDEN)
        self.LayerNorm = nn.LayerNorm(HIDDEN, eps=LN_EPS)

    def forward(self, x, residual):
        return self.LayerNorm(self.dense(x) + residual)


class Attention(nn.Module):
    def __init__(self):
        super().__init__()
        self.self = SelfAttention()
        self.output = DenseNorm(HIDDEN)

    def forward(self, x, mask_bias):
        return self.output(self.self(x, mask_bias), x)


class Intermediate(nn.Module):
    def __init__(self):
        super().__init__()
        self.dense = nn.Linear(HIDDEN, INTERMEDIATE)

    def forward(self, x):
        return nn.functional.gelu(self.dense(x))


class Layer(nn.Module):
    def __init__(self):
        super().__init__()
        self.attention = Attention()
        self.intermediate = Intermediate()
        self.output = DenseNorm(INTERMEDIATE)

    def forward(self, x, mask_bias):
        attended = self.attention(x, mask_bias)
        return self.output(self.intermediate(attended), attended)


class Encoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.layer = nn.ModuleList([Layer() for _ in range(LAYERS)])

    def forward(self, x, mask_bias):
        for layer in self.layer:
            x = layer(x, mask_bias)
        return x


class Pooler(nn.Module):
    def __init__(self):
        super().__init__()
        self.dense = nn.Linear(HIDDEN, HIDDEN)

    def forward(self, hidden):
        return torch.tanh(self.dense(hidden[:, 0]))


class Bert(nn.Module):
    """A BertModel whose state_dict keys are Hugging Face's, so model.safetensors reads like a real checkpoint."""

    def __init__(self, vocab_size):
        super().__init__()
        self.embeddings = Embeddings(vocab_size)
        self.encoder = Encoder()
        self.pooler = Pooler()

    def run(self, inputs_embeds, attention_mask, token_type_ids=None):
        # Hugging Face's extended mask: 0 where attended, the dtype's minimum where not.
        bias = (1.0 - attention_mask[:, None, None, :].to(torch.float32)) * torch.finfo(torch.float32).min
        hidden = self.encoder(self.embeddings(inputs_embeds, token_type_ids), bias)
        return hidden, self.pooler(hidden)


class PlainTuple(nn.Module):
    """The base model as exported with torchscript=True: (ids, mask, types) -> (last_hidden_state, pooler_output)."""

    def __init__(self, bert):
        super().__init__()
        self.bert = bert

    def forward(self, input_ids, attention_mask, token_type_ids):
        return self.bert.run(self.bert.embeddings.word_embeddings(input_ids), attention_mask, token_type_ids)


class HfBertModel(PlainTuple):
    """PlainTuple under the name a traced Hugging Face BertModel has in its archive."""


# TorchScript names a class after its Python module: this puts forward in code/__torch__/transformers/models/bert/
# modeling_bert.py, where a Hugging Face export has it.
HfBertModel.__module__ = "transformers.models.bert.modeling_bert"
HfBertModel.__name__ = HfBertModel.__qualname__ = "BertModel"


class PlainDict(nn.Module):
    """The base model returning a dict, as a return_dict=True trace (strict=False) does."""

    def __init__(self, bert):
        super().__init__()
        self.bert = bert

    def forward(self, input_ids, attention_mask):
        hidden, pooled = self.bert.run(self.bert.embeddings.word_embeddings(input_ids), attention_mask)
        return {"last_hidden_state": hidden, "pooler_output": pooled}


class PromptTuned(nn.Module):
    """PEFT's prompt tuning for feature extraction, with the virtual tokens baked in.

    inputs_embeds = cat(prompt, word_embeddings(ids)); mask = M ones ++ mask; token types dropped (type 0); no
    position ids (positions 0..M+N-1). Returns last_hidden_state [B, M+N, H].
    """

    def __init__(self, bert, prompt):
        super().__init__()
        self.bert = bert
        self.prompt = nn.Parameter(prompt)

    def forward(self, input_ids, attention_mask):
        words = self.bert.embeddings.word_embeddings(input_ids)
        prompt = self.prompt.unsqueeze(0).expand(input_ids.size(0), -1, -1)
        ones = torch.ones_like(attention_mask[:, :1]).expand(-1, self.prompt.size(0))
        hidden, _ = self.bert.run(torch.cat([prompt, words], dim=1), torch.cat([ones, attention_mask], dim=1))
        return hidden


class Varying(nn.Module):
    """A toy graph whose output has N + (N mod 3) - 1 positions: extra positions that change with the input."""

    def __init__(self, vocab_size):
        super().__init__()
        self.emb = nn.Embedding(vocab_size, 8)

    def forward(self, input_ids, attention_mask):
        x = self.emb(input_ids)
        n = input_ids.size(1)
        extra = n % 3 - 1
        if extra > 0:
            x = torch.cat([torch.zeros([x.size(0), extra, x.size(2)]), x], dim=1)
        elif extra < 0:
            x = x[:, : n + extra]
        return x


def seeded_weights(model, generator):
    """Weights large enough that attention is far from uniform and every module moves the result."""
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "LayerNorm.weight" in name:
                p.copy_(1.0 + 0.1 * torch.randn(p.shape, generator=generator))
            elif name.endswith("bias"):
                p.copy_(0.05 * torch.randn(p.shape, generator=generator))
            elif "embeddings" in name:
                p.copy_(0.5 * torch.randn(p.shape, generator=generator))
            else:
                p.copy_(0.1 * torch.randn(p.shape, generator=generator))


def write_safetensors(path, tensors):
    header = {}
    offset = 0
    blobs = []
    for name in sorted(tensors):
        t = tensors[name].detach().to(torch.float32).contiguous()
        data = struct.pack("<%df" % t.numel(), *t.reshape(-1).tolist())
        header[name] = {"dtype": "F32", "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
        offset += len(data)
        blobs.append(data)
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * (-len(text) % 8)  # the data section starts 8-byte aligned, as the reference writer pads
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for blob in blobs:
            f.write(blob)


def write_json(path, value):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        json.dump(value, f, indent=2, ensure_ascii=False)
        f.write("\n")


def write_text(path, text):
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)


def sentence_transformers_configs(directory):
    write_json(os.path.join(directory, "modules.json"), [
        {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
        {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"}])
    write_json(os.path.join(directory, "sentence_bert_config.json"),
               {"max_seq_length": MAX_SEQ_LENGTH, "do_lower_case": False})
    write_json(os.path.join(directory, "1_Pooling", "config.json"), {
        "word_embedding_dimension": HIDDEN, "pooling_mode_cls_token": False, "pooling_mode_mean_tokens": True,
        "pooling_mode_max_tokens": False, "pooling_mode_mean_sqrt_len_tokens": False,
        "pooling_mode_weightedmean_tokens": False, "pooling_mode_lasttoken": False, "include_prompt": True})


def bert_config(vocab_size):
    return {"architectures": ["BertModel"], "model_type": "bert", "hidden_size": HIDDEN,
            "num_hidden_layers": LAYERS, "num_attention_heads": HEADS, "intermediate_size": INTERMEDIATE,
            "max_position_embeddings": MAX_POSITIONS, "vocab_size": vocab_size, "type_vocab_size": TYPE_VOCAB,
            "layer_norm_eps": LN_EPS, "hidden_act": "gelu", "pad_token_id": 0, "_name_or_path": "tiny-prompt-bert"}


def adapter_config():
    return {"peft_type": "PROMPT_TUNING", "task_type": "FEATURE_EXTRACTION", "num_virtual_tokens": VIRTUAL_TOKENS,
            "token_dim": HIDDEN, "num_transformer_submodules": 1, "num_attention_heads": HEADS,
            "num_layers": LAYERS, "base_model_name_or_path": "tiny-prompt-bert", "inference_mode": True,
            "prompt_tuning_init": "RANDOM"}


def example_batch(vocab_size, generator, batch, length):
    ids = torch.randint(5, vocab_size, (batch, length), generator=generator)
    mask = torch.ones(batch, length, dtype=torch.long)
    mask[0, length - 2:] = 0  # one padded row, as a length-sorted batch has
    ids[0, length - 2:] = 0
    return ids, mask, torch.zeros(batch, length, dtype=torch.long)


def first(output):
    if isinstance(output, dict):
        return output["last_hidden_state"]
    return output[0] if isinstance(output, tuple) else output


def check_trace(name, traced, eager, inputs_for):
    """A trace must generalize beyond its example shapes: compare it with eager code on other batch shapes."""
    for batch, length in [(1, 2), (3, 11), (2, 40)]:
        inputs = inputs_for(batch, length)
        got, want = first(traced(*inputs)), first(eager(*inputs))
        if got.shape != want.shape or not torch.allclose(got, want, atol=1e-6):
            sys.exit("%s: the trace disagrees with eager code on [%d, %d]" % (name, batch, length))


def main():
    root = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "resources", "fixtures",
                                         "tiny-prompt-bert"))
    if os.path.isdir(root):
        shutil.rmtree(root)
    os.makedirs(root)
    torch.manual_seed(SEED)
    generator = torch.Generator().manual_seed(SEED)
    vocab = vocabulary()
    vocab_size = len(vocab)
    tokenizer = tokenizer_json(vocab)

    bert = Bert(vocab_size)
    seeded_weights(bert, generator)
    bert.eval()
    prompt = torch.randn(VIRTUAL_TOKENS, HIDDEN, generator=generator)  # PEFT's RANDOM init: nn.Embedding's N(0, 1)
    state = {k: v for k, v in bert.state_dict().items() if not k.startswith("pooler.")}

    st = os.path.join(root, "st")
    os.makedirs(st)
    write_json(os.path.join(st, "config.json"), bert_config(vocab_size))
    write_safetensors(os.path.join(st, "model.safetensors"), state)
    write_json(os.path.join(st, "tokenizer.json"), tokenizer)
    sentence_transformers_configs(st)

    adapter = os.path.join(root, "adapter")
    os.makedirs(adapter)
    write_json(os.path.join(adapter, "adapter_config.json"), adapter_config())
    write_safetensors(os.path.join(adapter, "adapter_model.safetensors"), {"prompt_embeddings": prompt})

    def batch_inputs(batch, length):
        return example_batch(vocab_size, generator, batch, length)

    with torch.no_grad():
        prompted = PromptTuned(bert, prompt.clone()).eval()
        ids, mask, _ = batch_inputs(2, 7)
        traced = torch.jit.trace(prompted, (ids, mask))
        check_trace("prompt", traced, prompted, lambda b, n: batch_inputs(b, n)[:2])
        out = traced(ids, mask)
        assert out.shape == (2, 7 + VIRTUAL_TOKENS, HIDDEN), out.shape
        ts = os.path.join(root, "torchscript-prompt")
        os.makedirs(ts)
        traced.save(os.path.join(ts, "model.pt"))
        write_json(os.path.join(ts, "tokenizer.json"), tokenizer)
        write_json(os.path.join(ts, "config.json"), bert_config(vocab_size))
        write_json(os.path.join(ts, "adapter_config.json"), adapter_config())
        sentence_transformers_configs(ts)
        write_text(os.path.join(ts, "serving.properties"),
                   "# DJL model-zoo convention; includeTokenTypes=false: forward(input_ids, attention_mask)\n"
                   "engine=PyTorch\noption.mapLocation=true\nincludeTokenTypes=false\n")

        plain = PlainTuple(bert).eval()
        traced = torch.jit.trace(plain, batch_inputs(2, 7))
        check_trace("plain", traced, plain, batch_inputs)
        ts = os.path.join(root, "torchscript-plain")
        os.makedirs(ts)
        traced.save(os.path.join(ts, "model.pt"))
        write_json(os.path.join(ts, "tokenizer.json"), tokenizer)
        write_text(os.path.join(ts, "serving.properties"),
                   "# forward(input_ids, attention_mask, token_type_ids) -> (last_hidden_state, pooler_output)\n"
                   "engine=PyTorch\nincludeTokenTypes=true\n")

        as_dict = PlainDict(bert).eval()
        traced = torch.jit.trace(as_dict, batch_inputs(2, 7)[:2], strict=False)
        check_trace("dict", traced, as_dict, lambda b, n: batch_inputs(b, n)[:2])
        ts = os.path.join(root, "torchscript-dict")
        os.makedirs(ts)
        traced.save(os.path.join(ts, "model.pt"))
        write_json(os.path.join(ts, "tokenizer.json"), tokenizer)

    varying = Varying(vocab_size)
    seeded_weights(varying, generator)
    scripted = torch.jit.script(varying.eval())
    for n, extra in [(2, 1), (3, -1), (4, 0)]:
        assert scripted(*batch_inputs(1, n)[:2]).shape[1] == n + extra
    ts = os.path.join(root, "torchscript-varying")
    os.makedirs(ts)
    scripted.save(os.path.join(ts, "model.pt"))
    write_json(os.path.join(ts, "tokenizer.json"), tokenizer)

    # Last, so that the random draws of the fixtures above are those they were first written with.
    with torch.no_grad():
        hf = HfBertModel(bert).eval()
        traced = torch.jit.trace(hf, batch_inputs(2, 7))
        check_trace("hf-bert", traced, hf, batch_inputs)
        ts = os.path.join(root, "torchscript-hf-bert")
        os.makedirs(ts)
        traced.save(os.path.join(ts, "model.pt"))
        write_json(os.path.join(ts, "tokenizer.json"), tokenizer)

    total = 0
    for directory, _, files in os.walk(root):
        for f in files:
            total += os.path.getsize(os.path.join(directory, f))
    print("wrote %s: vocabulary %d, %d bytes in all" % (root, vocab_size, total))
    if total >= 2 * 1024 * 1024:
        sys.exit("fixtures must stay under 2 MB")


if __name__ == "__main__":
    main()
