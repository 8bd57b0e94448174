#!/usr/bin/env python3
"""Writes the checkpoints mue-import's tests read, with PyTorch's own torch.save.

Usage: write_ofa_checkpoints.py OUT_DIR

A tiny OFA-shaped model (d 32, 4 heads, 2+2 layers, a 3-stage ResNet of widths 4/8/16) with random
weights under OFA's fairseq key names, saved the ways OFA checkpoints come:

  fairseq_zip_f32_cfg.pt      zip format, F32, args None and the architecture in cfg["model"] (an
                              argparse.Namespace), the image size in cfg["task"], as OFA's trainer saves
  fairseq_zip_f16_cfg.pt      the same in F16 (BatchNorm running statistics included, as --fp16 leaves them)
  fairseq_legacy_f32_args.pt  legacy format (_use_new_zipfile_serialization=False), F32, an older "args"
  fairseq_legacy_f16_args.pt  the same in F16
  hf_pytorch_model.bin        plain state dict with the Hugging Face port's names (no arguments)
  hf_prefixed_pytorch_model.bin  the same under a model-level "model." prefix
  hf_dedup_pytorch_model.bin  the same with the tied copies dropped but decoder.embed_tokens.weight

Every checkpoint carries the image-code-generation-only parameters and OFA's recomputable buffers
(which the importer skips), the tied decoder embedding and output projection, optimizer state (never
read) and one non-contiguous tensor (a transposed view, which torch.save keeps with its strides).
Weights are drawn in float32 and rounded through float16, so the F32 and F16 files hold the same
values and one reference serves all: reference.safetensors holds exactly the tensors mue's layout
expects, written here without torch.save. dict.txt is a fairseq dictionary of all 50,257 GPT-2 ids
plus fairseq's three madeupword padding lines (50,260 lines, as OFA's utils/BPE/dict.txt).

wrong_keys.pt lacks one weight and has one unknown key; untied.pt has an output projection that
differs from the token embedding. Malicious files (bad_*.pt) each break one rule the importer
enforces; their payloads would create a marker file, which the tests assert never appears.
proof_payload_runs.txt records that Python's own pickle.loads does run one of them (against a
different marker), so the payload is real.
"""
import argparse
import collections
import io
import json
import os
import pickle
import struct
import sys
import zipfile

import torch

D, HEADS, ENC, DEC, FFN = 32, 4, 2, 2, 64
MAX_POS, TOKEN_BUCKET, IMAGE_BUCKET, IMAGE_SIZE = 1024, 16, 6, 64
STEM, BASE, BLOCKS = 8, 4, [2, 1, 1]
BPE_IDS, MADEUP = 50257, 3
VOCAB = 4 + BPE_IDS + MADEUP + 1 + 8192 + 1000  # 59,457 as in OFA's released models
TEXT_ROWS = 4 + BPE_IDS  # specials and BPE entries; the rest are made zero, see below


def rand(*shape, scale=0.1, offset=0.0, positive=False):
    t = torch.randn(*shape) * scale + offset
    if positive:
        t = t.abs() + 0.5
    return t.half().float()  # exactly representable in F16, so every file holds the same values


def ofa_state_dict():
    """OFA fairseq key names -> tensors, in mue's layout plus what OFA stores beside it."""
    sd = collections.OrderedDict()

    def ln(p, n):
        sd[p + ".weight"] = rand(n, offset=1.0)
        sd[p + ".bias"] = rand(n)

    def lin(p, i, o):
        sd[p + ".weight"] = rand(o, i, scale=0.2)
        sd[p + ".bias"] = rand(o)

    def bn(p, c):
        sd[p + ".weight"] = rand(c, offset=1.0)
        sd[p + ".bias"] = rand(c)
        sd[p + ".running_mean"] = rand(c)
        sd[p + ".running_var"] = rand(c, positive=True)
        sd[p + ".num_batches_tracked"] = torch.tensor(7, dtype=torch.long)

    def attn(p):
        for n in ("q_proj", "k_proj", "v_proj", "out_proj"):
            lin(p + "." + n, D, D)
        sd[p + ".c_attn"] = rand(HEADS, offset=1.0)

    def ffn(p):
        lin(p + "fc1", D, FFN)
        lin(p + "fc2", FFN, D)
        ln(p + "ffn_layernorm", FFN)
        ln(p + "final_layer_norm", D)

    emb = rand(VOCAB, D, scale=0.5)
    # Rows past the text entries (madeupwords, <mask>, image codes, location bins) are zero so that a
    # caption from random weights stays in text tokens: a zero row scores 0 against any state.
    emb[TEXT_ROWS:] = 0
    sd["encoder.embed_tokens.weight"] = emb
    sd["encoder.type_embedding.weight"] = rand(2, D)
    ln("encoder.layernorm_embedding", D)
    ln("encoder.patch_layernorm_embedding", D)
    # A transposed view: stored non-contiguous (strides (1, D)), values as any [D, 16*BASE] weight.
    sd["encoder.image_proj.weight"] = rand(16 * BASE, D, scale=0.2).t()
    sd["encoder.image_proj.bias"] = rand(D)
    sd["encoder.embed_positions.weight"] = rand(MAX_POS + 2, D)
    sd["encoder.embed_image_positions.weight"] = rand(IMAGE_BUCKET * IMAGE_BUCKET + 1, D)
    ln("encoder.pos_ln", D)
    ln("encoder.image_pos_ln", D)
    lin("encoder.pos_q_linear", D, D)
    lin("encoder.pos_k_linear", D, D)
    ln("encoder.layer_norm", D)
    p = "encoder.embed_images."
    sd[p + "conv1.weight"] = rand(STEM, 3, 7, 7, scale=0.2)
    bn(p + "bn1", STEM)
    cin = STEM
    for s in range(3):
        w, out = BASE << s, 4 * (BASE << s)
        for b in range(BLOCKS[s]):
            q = "%slayer%d.%d." % (p, s + 1, b)
            sd[q + "conv1.weight"] = rand(w, cin, 1, 1, scale=0.3)
            bn(q + "bn1", w)
            sd[q + "conv2.weight"] = rand(w, w, 3, 3, scale=0.3)
            bn(q + "bn2", w)
            sd[q + "conv3.weight"] = rand(out, w, 1, 1, scale=0.3)
            bn(q + "bn3", out)
            if b == 0:
                sd[q + "downsample.0.weight"] = rand(out, cin, 1, 1, scale=0.3)
                bn(q + "downsample.1", out)
            cin = out
    side = 2 * IMAGE_BUCKET - 1
    for i in range(ENC):
        q = "encoder.layers.%d." % i
        attn(q + "self_attn")
        ln(q + "self_attn_layer_norm", D)
        ln(q + "attn_ln", D)
        ffn(q)
        sd["encoder.token_rel_pos_table_list.%d.weight" % i] = rand(2 * TOKEN_BUCKET - 1, HEADS)
        sd["encoder.image_rel_pos_table_list.%d.weight" % i] = rand(side * side + 3, HEADS)
    # Recomputable buffers, shrunk (OFA's are [1024, 1024] and [1765, 1765]); the importer skips them.
    sd["encoder.token_rp_bucket"] = torch.zeros(64, 64, dtype=torch.long)
    sd["encoder.image_rp_bucket"] = torch.zeros(IMAGE_BUCKET ** 2 + 1, IMAGE_BUCKET ** 2 + 1, dtype=torch.long)
    sd["encoder.version"] = torch.tensor([3.0])
    ln("decoder.layernorm_embedding", D)
    sd["decoder.embed_positions.weight"] = rand(MAX_POS + 2, D)
    ln("decoder.pos_ln", D)
    for n in ("self_pos_q_linear", "self_pos_k_linear", "cross_pos_q_linear", "cross_pos_k_linear"):
        lin("decoder." + n, D, D)
    ln("decoder.layer_norm", D)
    for i in range(DEC):
        q = "decoder.layers.%d." % i
        attn(q + "self_attn")
        ln(q + "self_attn_layer_norm", D)
        ln(q + "self_attn_ln", D)
        attn(q + "encoder_attn")
        ln(q + "encoder_attn_layer_norm", D)
        ln(q + "cross_attn_ln", D)
        ffn(q)
        sd["decoder.token_rel_pos_table_list.%d.weight" % i] = rand(2 * TOKEN_BUCKET - 1, HEADS)
    return sd


def add_ofa_extras(sd):
    """What an OFA checkpoint holds beyond mue's layout: tied copies, image-code-only parameters, buffers."""
    full = collections.OrderedDict(sd)
    full["decoder.embed_tokens.weight"] = sd["encoder.embed_tokens.weight"]
    full["decoder.output_projection.weight"] = sd["encoder.embed_tokens.weight"]
    full["decoder.embed_image_positions.weight"] = rand(IMAGE_BUCKET * IMAGE_BUCKET + 1, D)
    for n in ("image_pos_ln", "code_layernorm_embedding"):
        full["decoder.%s.weight" % n] = rand(D, offset=1.0)
        full["decoder.%s.bias" % n] = rand(D)
    side = 2 * IMAGE_BUCKET - 1
    for i in range(DEC):
        full["decoder.image_rel_pos_table_list.%d.weight" % i] = rand(side * side + 3, HEADS)
    full["decoder.token_rp_bucket"] = torch.zeros(64, 64, dtype=torch.long)
    full["decoder.image_rp_bucket"] = torch.zeros(IMAGE_BUCKET ** 2 + 1, IMAGE_BUCKET ** 2 + 1, dtype=torch.long)
    full["decoder.image_position_idx"] = torch.arange(1026, dtype=torch.long)
    full["decoder.version"] = torch.tensor([3.0])
    return full


def layout_only(sd):
    """The tensors mue's bundle holds: everything but OFA's buffers (the extras are added later)."""
    skip = ("num_batches_tracked", "token_rp_bucket", "image_rp_bucket", "version")
    return collections.OrderedDict((k, v) for k, v in sd.items() if not k.endswith(skip))


HF_RENAMES = {
    "attn_ln": "self_attn_mid_layer_norm",
    "self_attn_ln": "self_attn_mid_layer_norm",
    "ffn_layernorm": "ffn_layer_norm",
    "encoder_attn": "cross_attn",
    "encoder_attn_layer_norm": "cross_attn_layer_norm",
    "cross_attn_ln": "cross_attn_mid_layer_norm",
}


def hf_names(sd, prefix=""):
    out = collections.OrderedDict()
    for k, v in sd.items():
        parts = [HF_RENAMES.get(s, s) for s in k.split(".")]
        out[prefix + ".".join(parts)] = v
    return out


def model_args():
    # OFA's architecture arguments as its trainer records them (models/ofa/ofa.py names).
    return dict(arch="ofa_tiny", encoder_embed_dim=D, decoder_embed_dim=D, encoder_attention_heads=HEADS,
                decoder_attention_heads=HEADS, encoder_layers=ENC, decoder_layers=DEC,
                encoder_ffn_embed_dim=FFN, decoder_ffn_embed_dim=FFN, max_source_positions=MAX_POS,
                max_target_positions=MAX_POS, token_bucket_size=TOKEN_BUCKET, image_bucket_size=IMAGE_BUCKET,
                resnet_type="resnet_tiny",  # not an OFA name: the importer lets the tensors decide
                attn_scale_factor=2, scale_attn=True, scale_fc=True, scale_heads=True,
                share_all_embeddings=True, dropout=0.1, lr=[1e-5], adam_betas="(0.9,0.999)")


def task_args():
    return dict(_name="snli_ve", patch_image_size=IMAGE_SIZE, code_dict_size=8192, num_bins=1000,
                max_src_length=80, bpe_dir="utils/BPE", prompt_type="prev_output")


def half(sd):
    return collections.OrderedDict((k, v.half() if v.is_floating_point() else v) for k, v in sd.items())


def optimizer_state(sd):
    # Never read by the importer: its tensors stay unread storages.
    return {"state": {0: {"exp_avg": torch.ones(10), "step": 3}}, "param_groups": [{"lr": 1e-5, "params": [0]}]}


def fairseq_with_cfg(sd):
    cfg = {"_name": None, "common": {"fp16": True, "seed": 7}, "model": argparse.Namespace(**model_args()),
           "task": argparse.Namespace(**task_args()), "criterion": {"_name": "adjust_label_smoothed_cross_entropy"}}
    return {"args": None, "cfg": cfg, "model": sd, "criterion": None,
            "optimizer_history": [{"criterion_name": "AdjustLabelSmoothedCrossEntropyCriterion",
                                   "optimizer_name": "FairseqAdam", "num_updates": 100}],
            "task_state": {}, "extra_state": {"epoch": 2, "best": 0.5, "previous_training_time": 12.5},
            "last_optimizer_state": optimizer_state(sd)}


def fairseq_with_args(sd):
    a = dict(model_args())
    a.update({k: v for k, v in task_args().items() if k != "_name"})
    return {"args": argparse.Namespace(**a), "model": sd, "optimizer_history": [],
            "extra_state": {"epoch": 1}, "last_optimizer_state": optimizer_state(sd)}


def write_safetensors(path, tensors):
    header, offset, blobs = {}, 0, []
    for k, v in tensors.items():
        b = v.contiguous().float().numpy().tobytes()
        header[k] = {"dtype": "F32", "shape": list(v.shape), "data_offsets": [offset, offset + len(b)]}
        offset += len(b)
        blobs.append(b)
    h = json.dumps(header).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


def write_dict(path, rng):
    ids = torch.randperm(BPE_IDS, generator=rng).tolist()
    with open(path, "w") as f:
        for n, i in enumerate(ids):
            f.write("%d %d\n" % (i, 10_000_000 - n))
        for m in range(MADEUP):
            f.write("madeupword%04d 0\n" % m)


# ---- malicious files ---------------------------------------------------------------------------

class Payload:
    """Unpickling this runs the marker command; pickled by reference as module.function."""

    def __init__(self, func, arg):
        self.func, self.arg = func, arg

    def __reduce__(self):
        return (self.func, (self.arg,))


def torch_zip(path, data_pkl, storages=(), root="archive"):
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as z:
        z.writestr(root + "/data.pkl", data_pkl)
        for key, raw in storages:
            z.writestr(root + "/data/" + key, raw)
        z.writestr(root + "/version", "3\n")


class FakeStorage:
    def __init__(self, key, numel):
        self.key, self.numel = key, numel


class Rebuild:
    """Pickles as torch._utils._rebuild_tensor_v2(storage, offset, size, stride, False, OrderedDict())."""

    def __init__(self, storage, offset, size, stride):
        self.args = (storage, offset, size, stride, False, collections.OrderedDict())

    def __reduce__(self):
        return (torch._utils._rebuild_tensor_v2, self.args)


class StoragePickler(pickle.Pickler):
    def persistent_id(self, obj):
        if isinstance(obj, FakeStorage):
            return ("storage", torch.FloatStorage, obj.key, "cpu", obj.numel)
        return None


def crafted_tensor_file(path, numel, data_bytes, offset, size, stride):
    buf = io.BytesIO()
    st = FakeStorage("0", numel)
    StoragePickler(buf, protocol=2).dump({"model": collections.OrderedDict(
        [("encoder.embed_tokens.weight", Rebuild(st, offset, size, stride))])})
    torch_zip(path, buf.getvalue(), [("0", data_bytes)])


def write_malicious(out):
    marker = os.path.join(out, "PWNED")
    cmd = "touch " + marker
    # os.system pickles as posix.system; protocol 2 writes GLOBAL 'posix system'.
    torch_zip(os.path.join(out, "bad_posix_system.pt"), pickle.dumps(Payload(os.system, cmd), protocol=2))
    # builtins.eval: protocol 2 maps it to Python 2's name, GLOBAL '__builtin__ eval' ...
    code = "__import__('os').system(%r)" % cmd
    torch_zip(os.path.join(out, "bad___builtin___eval.pt"), pickle.dumps(Payload(eval, code), protocol=2))
    # ... protocol 4 keeps 'builtins' 'eval' and uses STACK_GLOBAL.
    torch_zip(os.path.join(out, "bad_builtins_eval.pt"), pickle.dumps(Payload(eval, code), protocol=4))
    # The legacy format: the payload sits where the magic number's pickle belongs.
    with open(os.path.join(out, "bad_legacy_system.pt"), "wb") as f:
        f.write(pickle.dumps(Payload(os.system, cmd), protocol=2))
    # The payload hides inside the state dict, after tensors were already described.
    buf = io.BytesIO()
    StoragePickler(buf, protocol=2).dump({"model": collections.OrderedDict(
        [("encoder.type_embedding.weight", Rebuild(FakeStorage("0", 4), 0, (2, 2), (2, 1))),
         ("x", Payload(os.system, cmd))])})
    torch_zip(os.path.join(out, "bad_nested_system.pt"), buf.getvalue(), [("0", bytes(16))])

    good = open(os.path.join(out, "fairseq_zip_f32_cfg.pt"), "rb").read()
    with open(os.path.join(out, "bad_truncated.pt"), "wb") as f:
        f.write(good[: len(good) // 2])
    legacy = open(os.path.join(out, "fairseq_legacy_f32_args.pt"), "rb").read()
    with open(os.path.join(out, "bad_legacy_truncated.pt"), "wb") as f:
        f.write(legacy[:-100])  # the last storage loses its tail
    four = struct.pack("<4f", 1, 2, 3, 4)
    crafted_tensor_file(os.path.join(out, "bad_offset_past_data.pt"), 4, four, 10, (4,), (1,))
    crafted_tensor_file(os.path.join(out, "bad_storage_short.pt"), 1000, four, 0, (4,), (1,))
    crafted_tensor_file(os.path.join(out, "bad_negative_stride.pt"), 4, four, 0, (2, 2), (-2, 1))
    crafted_tensor_file(os.path.join(out, "bad_shape_overflow.pt"), 4, four, 0, (1 << 40, 1 << 40), (1 << 40, 1))
    crafted_tensor_file(os.path.join(out, "bad_stride_past_data.pt"), 4, four, 0, (2, 2), (3, 1))

    # Proof that the payload is live: Python's own unpickler runs it (against another marker).
    proof = os.path.join(out, "proof_payload_runs.txt")
    if os.path.exists(proof):
        os.remove(proof)
    pickle.loads(pickle.dumps(Payload(os.system, "touch " + proof), protocol=2))
    assert os.path.exists(proof), "the os.system payload did not run under Python's pickle"


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    torch.manual_seed(20230)
    rng = torch.Generator().manual_seed(11)
    core = ofa_state_dict()
    ref = layout_only(core)
    write_safetensors(os.path.join(out, "reference.safetensors"), ref)
    write_dict(os.path.join(out, "dict.txt"), rng)
    full = add_ofa_extras(core)
    torch.save(fairseq_with_cfg(full), os.path.join(out, "fairseq_zip_f32_cfg.pt"))
    torch.save(fairseq_with_cfg(half(full)), os.path.join(out, "fairseq_zip_f16_cfg.pt"))
    torch.save(fairseq_with_args(full), os.path.join(out, "fairseq_legacy_f32_args.pt"),
               _use_new_zipfile_serialization=False)
    torch.save(fairseq_with_args(half(full)), os.path.join(out, "fairseq_legacy_f16_args.pt"),
               _use_new_zipfile_serialization=False)
    torch.save(hf_names(full), os.path.join(out, "hf_pytorch_model.bin"))
    torch.save(hf_names(full, "model."), os.path.join(out, "hf_prefixed_pytorch_model.bin"))
    # Tied duplicates removed on save, keeping only the decoder's name for the shared embedding.
    dedup = hf_names(full)
    dedup.pop("encoder.embed_tokens.weight")
    dedup.pop("decoder.output_projection.weight")
    torch.save(dedup, os.path.join(out, "hf_dedup_pytorch_model.bin"))
    write_malicious(out)  # after the good files: two bad ones are cut from them
    # Wrong keys: one missing, one unknown; and a decoder output projection that is not tied.
    wrong = collections.OrderedDict(full)
    del wrong["encoder.layers.1.fc2.bias"]
    wrong["encoder.layers.0.adapter.weight"] = rand(D)
    torch.save(fairseq_with_cfg(wrong), os.path.join(out, "wrong_keys.pt"))
    untied = collections.OrderedDict(full)
    untied["decoder.output_projection.weight"] = full["encoder.embed_tokens.weight"] + 1
    torch.save(fairseq_with_cfg(untied), os.path.join(out, "untied.pt"))
    manifest = dict(d_model=D, heads=HEADS, encoder_layers=ENC, decoder_layers=DEC, ffn_dim=FFN, vocab_size=VOCAB,
                    max_positions=MAX_POS, token_bucket_size=TOKEN_BUCKET, image_bucket_size=IMAGE_BUCKET,
                    image_size=IMAGE_SIZE, stem_channels=STEM, base_width=BASE, blocks=BLOCKS,
                    reference_tensors=len(ref), torch=torch.__version__)
    with open(os.path.join(out, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)


if __name__ == "__main__":
    main()
