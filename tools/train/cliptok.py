# SPDX-License-Identifier: GPL-3.0-or-later
"""CLIP's byte-level BPE for the demo's own CLIP (spec/text-domains.md §2):
learning merges on captions in CLIP's merges format, and encoding text with
them exactly as the engine's tokenizer does (vocabulary order, splitting,
merging), so that the CLIP trained here sees the token ids the app will
give it.

Normalisation is the part of §2.1 that clean caption text needs (NFC,
white space collapsed, lower case); the captions have no HTML references,
mojibake or control characters (`check_clean` says so).

    cliptok.py learn --captions .train/captions.json --merges N -o merges.txt
    cliptok.py check --merges FILE    # against tests/conformance/text/tokens.json
"""
import argparse
import collections
import gzip
import html
import json
import os
import sys
import unicodedata

SOT, EOT = "<|startoftext|>", "<|endoftext|>"
CONTRACTIONS = ("'s", "'t", "'re", "'ve", "'m", "'ll", "'d")
WHITE = set("\t\n\x0b\x0c\r \x85\xa0\u1680\u2028\u2029\u202f\u205f\u3000") | \
    {chr(c) for c in range(0x2000, 0x200B)}


def byte_symbols():
    """The 256 byte symbols in vocabulary order (§2.3), and byte -> symbol."""
    printable = [b for b in range(256) if 0x21 <= b <= 0x7E or 0xA1 <= b <= 0xAC or 0xAE <= b <= 0xFF]
    rest = [b for b in range(256) if b not in printable]
    symbol = {b: chr(b) for b in printable}
    symbol.update({b: chr(0x100 + i) for i, b in enumerate(rest)})
    return [symbol[b] for b in printable + rest], symbol


LIGATURES = {"\u0132": "IJ", "\u0133": "ij", "\u0149": "\u02bcn", "\u01f1": "DZ", "\u01f2": "Dz",
             "\u01f3": "dz", "\u01c4": "D\u017d", "\u01c5": "D\u017e", "\u01c6": "d\u017e",
             "\u01c7": "LJ", "\u01c8": "Lj", "\u01c9": "lj", "\u01ca": "NJ", "\u01cb": "Nj",
             "\u01cc": "nj", "\ufb00": "ff", "\ufb01": "fi", "\ufb02": "fl", "\ufb03": "ffi",
             "\ufb04": "ffl", "\ufb05": "\u017ft", "\ufb06": "st"}


def fix_char(c):
    """§2.1 steps 3-5 on one character: ligatures, width, quotes."""
    if c in LIGATURES:
        return LIGATURES[c]
    if c == "\u3000":
        return " "
    if "\uff01" <= c <= "\uffef":
        return unicodedata.normalize("NFKC", c)
    if c == "\u02bc" or "\u2018" <= c <= "\u201b":
        return "'"
    if "\u201c" <= c <= "\u201f":
        return '"'
    return c


def normalise(text):
    """§2.1 for text without HTML references, control characters or
    mojibake (check_clean): steps 3-5 and 9 of the line fixes until
    nothing changes, white space, lower case."""
    while True:
        fixed = unicodedata.normalize("NFC", "".join(fix_char(c) for c in text))
        if fixed == text:
            break
        text = fixed
    text = "".join(" " if c in WHITE else c for c in text)
    return " ".join(text.split()).lower()


def check_clean(text):
    """Whether TEXT needs nothing of §2.1 beyond normalise()."""
    if html.unescape(text) != text:
        return False
    return not any((unicodedata.category(c) in ("Cc", "Cf") and c not in "\u200d\ufe0f")
                   or "\u0080" <= c <= "\u009f" for c in text)


def split(text):
    """§2.2 on normalised text."""
    pieces, i, n = [], 0, len(text)

    def cat(c):
        return unicodedata.category(c)

    while i < n:
        for special in (SOT, EOT):
            if text.startswith(special, i):
                pieces.append(special)
                i += len(special)
                break
        else:
            c = text[i]
            if c == "'":
                for con in sorted(CONTRACTIONS, key=len, reverse=True):
                    # case-insensitive: in lowercased text only U+017F ſ matches s
                    if text[i:i + len(con)].replace("\u017f", "s") == con:
                        pieces.append(text[i:i + len(con)])
                        i += len(con)
                        break
                else:
                    con = None
                if con is not None:
                    continue
            if cat(c).startswith("L"):
                j = i
                while j < n and cat(text[j]).startswith("L"):
                    j += 1
                pieces.append(text[i:j])
                i = j
            elif cat(c).startswith("N"):
                pieces.append(c)
                i += 1
            elif c in WHITE or c == "\u0345":
                i += 1
            else:
                j = i
                while j < n and not (text[j] in WHITE or text[j] == "\u0345" or
                                     cat(text[j])[0] in "LN"):
                    j += 1
                pieces.append(text[i:j])
                i = j
    return pieces


def word_symbols(piece, symbol):
    syms = [symbol[b] for b in piece.encode("utf-8")]
    syms[-1] += "</w>"
    return tuple(syms)


class Tokenizer:
    def __init__(self, merges):
        """MERGES: list of (a, b) pairs in rank order."""
        order, symbol = byte_symbols()
        self.symbol = symbol
        vocab = order + [s + "</w>" for s in order] + [a + b for a, b in merges] + [SOT, EOT]
        self.ids = {s: i for i, s in enumerate(vocab)}
        self.ranks = {pair: r for r, pair in enumerate(merges)}
        self.vocab_size = len(vocab)
        self.cache = {}

    def bpe(self, piece):
        if piece in self.cache:
            return self.cache[piece]
        word = list(word_symbols(piece, self.symbol))
        while len(word) > 1:
            pairs = [(self.ranks.get((word[k], word[k + 1]), None), k) for k in range(len(word) - 1)]
            pairs = [p for p in pairs if p[0] is not None]
            if not pairs:
                break
            rank = min(pairs)[0]
            a, b = next((word[k], word[k + 1]) for r, k in pairs if r == rank)
            out, k = [], 0
            while k < len(word):
                if k + 1 < len(word) and word[k] == a and word[k + 1] == b:
                    out.append(a + b)
                    k += 2
                else:
                    out.append(word[k])
                    k += 1
            word = out
        ids = [self.ids[s] for s in word]
        self.cache[piece] = ids
        return ids

    def encode(self, text, context_length=None):
        ids = [self.ids[SOT]]
        for piece in split(normalise(text)):
            ids += [self.ids[piece]] if piece in (SOT, EOT) else self.bpe(piece)
        ids.append(self.ids[EOT])
        if context_length is not None and len(ids) > context_length:
            raise ValueError("%r is %d tokens; at most %d fit" % (text, len(ids) - 2, context_length - 2))
        return ids


def read_merges(path, count=None):
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8") as f:
        lines = f.read().split("\n")[1:]
    lines = [l for l in lines if l][:count]
    return [tuple(l.split(" ")) for l in lines]


def learn(texts, n_merges):
    """Byte-level BPE merges learned on TEXTS (most frequent adjacent pair
    first, ties broken by the pair's text so that runs are repeatable)."""
    _, symbol = byte_symbols()
    words = collections.Counter()
    for t in texts:
        for piece in split(normalise(t)):
            if piece not in (SOT, EOT):
                words[word_symbols(piece, symbol)] += 1
    words = {w: c for w, c in words.items()}
    merges = []
    for _ in range(n_merges):
        pairs = collections.Counter()
        for w, c in words.items():
            for k in range(len(w) - 1):
                pairs[(w[k], w[k + 1])] += c
        if not pairs:
            break
        best = max(pairs.items(), key=lambda kv: (kv[1], tuple(-ord(ch) for ch in kv[0][0] + " " + kv[0][1])))[0]
        merges.append(best)
        a, b = best
        new = {}
        for w, c in words.items():
            out, k = [], 0
            while k < len(w):
                if k + 1 < len(w) and w[k] == a and w[k + 1] == b:
                    out.append(a + b)
                    k += 2
                else:
                    out.append(w[k])
                    k += 1
            new[tuple(out)] = new.get(tuple(out), 0) + c
        words = new
    return merges


def caption_texts(captions_path):
    with open(captions_path, encoding="utf-8") as f:
        data = json.load(f)
    texts = []
    for img in data["images"]:
        for lang in ("en", "ru"):
            texts += img["captions"][lang]
    return texts


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    a = sub.add_parser("learn")
    a.add_argument("--captions", required=True)
    a.add_argument("--merges", type=int, default=4000)
    a.add_argument("-o", "--output", required=True)
    c = sub.add_parser("check")
    c.add_argument("--merges", required=True)
    args = ap.parse_args()

    if args.cmd == "learn":
        texts = caption_texts(args.captions)
        dirty = [t for t in texts if not check_clean(t)]
        if dirty:
            print("captions that need more normalisation than this script does: %r" % dirty[:5],
                  file=sys.stderr)
            return 1
        merges = learn(texts, args.merges)
        with open(args.output, "w", encoding="utf-8") as f:
            f.write("#version: 0.2 - merges learned on the Hyperdomain emoji captions\n")
            for m in merges:
                f.write("%s %s\n" % m)
        tok = Tokenizer(merges)
        lengths = sorted(len(tok.encode(t)) for t in texts)
        print("%d merges (vocabulary %d) from %d captions; tokens per caption: median %d, max %d"
              % (len(merges), tok.vocab_size, len(texts), lengths[len(lengths) // 2], lengths[-1]))
        return 0

    # check: the OpenAI merges against conformance/text/tokens.json
    here = os.path.dirname(os.path.abspath(__file__))
    cases = json.load(open(os.path.join(here, "..", "..", "tests", "conformance", "text", "tokens.json")))
    vocab = cases.get("vocab_size", 49408)
    tok = Tokenizer(read_merges(args.merges, vocab - 514))
    ok = bad = 0
    for case in cases["prompts"] if "prompts" in cases else cases["cases"]:
        if "tokens" not in case or not check_clean(case["prompt"]):
            continue
        got = tok.encode(case["prompt"])
        if got == [t for t in case["tokens"] if t != 0] or got == case["tokens"][:len(got)]:
            ok += 1
        else:
            bad += 1
            print("differs: %r: %s vs %s" % (case["prompt"], got[:12], case["tokens"][:12]))
    print("%d clean prompts equal, %d differ" % (ok, bad))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
