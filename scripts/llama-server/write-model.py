#!/usr/bin/env python3
"""Writes the tiny llama-architecture GGUF model the llama-server tests load (well under 1 MB).

No trained model can be fetched, and a purely random one answers a strict JSON schema with
random ids, which sluice rightly refuses. So the model is a bigram model dressed as a llama: the
two transformer blocks carry random weights (fixed seed) whose outputs are scaled near zero, the
token embedding puts each token in one of a few classes, and the output matrix ranks the next
token per class. Under llama-server's json_schema grammar and greedy sampling it answers every
pack with one document, id "D1", one entity and one relation: schema-valid, and the id sluice
gave its first document, so a pack of n documents is answered one document per request (sluice
sends the missing ones again on their own). Embeddings (mean pooling) are 64 numbers.

The vocabulary is SentencePiece-style ("llama" tokenizer): <unk> <s> </s>, the 256 byte tokens
llama.cpp falls back to, and one token per printable ASCII character (space as U+2581), so any
text tokenizes, at about one token per character.
"""
import sys

import numpy as np
import gguf

SEED = 20261203
N_EMBD = 64
N_HEAD = 4
N_FF = 128
N_LAYER = 2
CONTEXT = 4096
# Layer outputs are scaled by this, so the random blocks do not reorder the bigram ranking.
LAYER_SCALE = 1e-4

NORMAL, UNKNOWN, CONTROL, BYTE = 1, 2, 3, 6
SPACE = "\u2581"


def vocabulary():
    tokens = ["<unk>", "<s>", "</s>"] + [f"<0x{b:02X}>" for b in range(256)]
    types = [UNKNOWN, CONTROL, CONTROL] + [BYTE] * 256
    for c in range(0x20, 0x7F):
        tokens.append(SPACE if c == 0x20 else chr(c))
        types.append(NORMAL)
    return tokens, types


def bigram_table(tokens):
    """Scores of the next token for each class of the current one (higher is preferred)."""
    ids = {t: i for i, t in enumerate(tokens)}
    eos = 2
    # The classes that face a choice under the grammar, and what each prefers, best first.
    prefs = {
        '"': ["D", ":", ",", "}", "]"],  # a string opens with D; a key is followed by ':'
        "{": ['"'],
        "[": ["{"],  # every array gets one element...
        "}": ["]", eos, ","],  # ...and only one; after the root object, the end
        ":": ["[", '"', "1"],  # a value without a space before it; an integer is 1
        "D": ["1"],  # the id "D1"
        "1": ['"', "}", ","],
    }
    classes = list(prefs) + ["other"]
    table = np.zeros((len(tokens), len(classes)), dtype=np.float32)
    for k, cls in enumerate(classes):
        for i, t in enumerate(tokens):
            if t == SPACE or i in (0, 1):
                table[i, k] = -20.0  # never a space, never <unk> or <s>
            elif t.startswith("<0x"):
                table[i, k] = -10.0  # a character as itself, not as its byte token
            elif i == eos:
                table[i, k] = -5.0
        for rank, want in enumerate(prefs.get(cls, ['"', ",", "}"])):
            table[want if isinstance(want, int) else ids[want], k] = 10.0 - rank
    class_of = np.full(len(tokens), len(classes) - 1)
    for k, cls in enumerate(classes[:-1]):
        class_of[ids[cls]] = k
    return table, class_of


def main(path):
    rng = np.random.default_rng(SEED)
    tokens, types = vocabulary()
    table, class_of = bigram_table(tokens)
    n_vocab, n_class = len(tokens), table.shape[1]

    def random(*shape, scale=1.0):
        return (rng.standard_normal(shape) * scale / np.sqrt(shape[-1])).astype(np.float32)

    # Each token's embedding is its class's axis, so the final norm leaves sqrt(N_EMBD) there and
    # the output matrix's column for that class gives the next token's scores.
    embd = np.zeros((n_vocab, N_EMBD), dtype=np.float32)
    embd[np.arange(n_vocab), class_of] = 1.0
    output = random(n_vocab, N_EMBD, scale=0.01)
    output[:, :n_class] = table / np.sqrt(N_EMBD)

    w = gguf.GGUFWriter(path, "llama")
    w.add_name("sluice-tiny-bigram")
    w.add_context_length(CONTEXT)
    w.add_embedding_length(N_EMBD)
    w.add_block_count(N_LAYER)
    w.add_feed_forward_length(N_FF)
    w.add_head_count(N_HEAD)
    w.add_head_count_kv(N_HEAD)
    w.add_rope_dimension_count(N_EMBD // N_HEAD)
    w.add_rope_freq_base(10000.0)
    w.add_layer_norm_rms_eps(1e-5)
    w.add_vocab_size(n_vocab)
    w.add_file_type(gguf.LlamaFileType.ALL_F32)
    w.add_tokenizer_model("llama")
    w.add_token_list(tokens)
    w.add_token_scores([0.0] * n_vocab)
    w.add_token_types(types)
    w.add_bos_token_id(1)
    w.add_eos_token_id(2)
    w.add_unk_token_id(0)
    w.add_add_bos_token(True)
    w.add_add_eos_token(False)
    # ChatML, written out so that llama-server does not have to guess a template.
    w.add_chat_template(
        "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n{% endfor %}"
        "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
    )

    w.add_tensor("token_embd.weight", embd)
    w.add_tensor("output_norm.weight", np.ones(N_EMBD, dtype=np.float32))
    w.add_tensor("output.weight", output)
    for b in range(N_LAYER):
        w.add_tensor(f"blk.{b}.attn_norm.weight", np.ones(N_EMBD, dtype=np.float32))
        w.add_tensor(f"blk.{b}.attn_q.weight", random(N_EMBD, N_EMBD))
        w.add_tensor(f"blk.{b}.attn_k.weight", random(N_EMBD, N_EMBD))
        w.add_tensor(f"blk.{b}.attn_v.weight", random(N_EMBD, N_EMBD))
        w.add_tensor(f"blk.{b}.attn_output.weight", random(N_EMBD, N_EMBD, scale=LAYER_SCALE))
        w.add_tensor(f"blk.{b}.ffn_norm.weight", np.ones(N_EMBD, dtype=np.float32))
        w.add_tensor(f"blk.{b}.ffn_gate.weight", random(N_FF, N_EMBD))
        w.add_tensor(f"blk.{b}.ffn_up.weight", random(N_FF, N_EMBD))
        w.add_tensor(f"blk.{b}.ffn_down.weight", random(N_EMBD, N_FF, scale=LAYER_SCALE))

    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


if __name__ == "__main__":
    main(sys.argv[1])
