#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Names, keywords and short captions, in English and Russian, for every
image of the emoji dataset that build_dataset.py writes.

  captions.py [--data .train/emoji64.npz] [-o .train/captions.json] [--check]

The dataset stores each image's code point sequence ("codes", e.g.
"1F44D 1F3FD"). For each sequence this looks up the Unicode CLDR
annotations of Debian's unicode-cldr-core (common/annotations/{en,ru}.xml:
the short name, type="tts", and the keywords; common/annotationsDerived/
for skin-tone, flag, keycap and ZWJ sequences). Variation selectors
(U+FE0F, U+FE0E) are ignored for the lookup, as CLDR drops them. What CLDR
lacks is derived:

  skin-tone sequences  base name + ": " + tone name(s), keywords of the base
                       plus the tone name ("thumbs up: medium skin tone")
  flags                regional-indicator pairs: "flag: " + the territory
                       name of common/main/{en,ru}.xml ("флаг: Франция")
  keycaps              "keycap: " + the key
  ZWJ sequences        the names of the parts, joined with ", "

For single code points that CLDR 41 does not know (the Unicode 15.0
emoji of the font), English falls back to the Unicode character name, lower
case (Python's unicodedata, else ICU's u_charName, as Debian 12's Python
has Unicode 14.0 and its ICU 72 Unicode 15.0), and Russian to RU_EXTRA, a
short table made for this dataset.

Several flag sequences draw the same image in the font (Norway, Bouvet
Island, Svalbard & Jan Mayen), some flags and keycaps are drawn by
private-use code points as well, and build_dataset.py keeps only the first
of identical images, so an image's own sequence can name a lesser
territory or nothing at all. For the flag and private-use images this
renders every regional-indicator pair and keycap sequence with
build_dataset.Renderer (same font and size) and collects the ones that
draw the same image ("same_image"); the image is named after the flag of
the most populous of those territories (CLDR's supplementalData.xml
figures; "named_after"), and the names of all of them become keywords
(but not captions).
Each name records where it came from (names_from: cldr, cldr-derived,
derived-tone, derived-flag, derived-keycap, derived-zwj, unicodedata, icu,
ru-extra, none; prefixed "same-image/" when named after another sequence).

The output, JSON, has one entry per image, in the dataset's order:
index, sequence (code points, hex), text, group (the dataset's group
label), names {en, ru}, keywords {en: [...], ru: [...]}, names_from,
same_image and named_after where they apply, and
captions {en: [...], ru: [...]}: the caption patterns of EN_PATTERNS and
RU_PATTERNS filled in, duplicates dropped. The Russian patterns never
decline the name (a bare name, "эмодзи: <name>", "эмодзи «<name>»", the
name with its keywords), so that the grammar stays right whatever the
name is. --check prints coverage figures, the images with no Russian name
and a few random samples.

The CLDR data is under the Unicode License (Unicode-DFS-2016; Debian:
/usr/share/doc/unicode-cldr-core/copyright).
"""
import argparse
import json
import os
import random
import sys
import unicodedata
import xml.etree.ElementTree as ET

import numpy as np

CLDR = "/usr/share/unicode/cldr/common"
LANGS = ("en", "ru")
TONES = range(0x1F3FB, 0x1F400)
RI = range(0x1F1E6, 0x1F200)
VS = (0xFE0E, 0xFE0F)
ZWJ = 0x200D
KEYCAP = 0x20E3
# How many keywords the keyword caption lists, at most.
MAX_KEYWORDS = 4
# Keys of the keycap sequences (key, U+FE0F, U+20E3), for matching images.
KEYCAP_KEYS = "#*0123456789"

# Emoji of Unicode 15.0 that the font draws but CLDR 41 (Debian 12) does not
# name: their Russian names, made for this dataset (the English names come
# from the Unicode character names, see unicode_name()).
RU_EXTRA = {
    0x1F6DC: "беспроводная связь",
    0x1FA75: "голубое сердце",
    0x1FA76: "серое сердце",
    0x1FA77: "розовое сердце",
    0x1FA87: "маракасы",
    0x1FA88: "флейта",
    0x1FAAD: "складной веер",
    0x1FAAE: "гребень для волос",
    0x1FAAF: "кханда",
    0x1FABB: "гиацинт",
    0x1FABC: "медуза",
    0x1FABD: "крыло",
    0x1FABF: "гусь",
    0x1FACE: "лось",
    0x1FACF: "осёл",
    0x1FADA: "корень имбиря",
    0x1FADB: "стручок гороха",
    0x1FAE8: "трясущееся лицо",
    0x1FAF7: "ладонь, толкающая влево",
    0x1FAF8: "ладонь, толкающая вправо",
}

# Caption patterns. {name}: the CLDR-style short name; {phrase}: the name as
# running text (English "flag of France", "thumbs up with medium skin tone";
# Russian "большой палец вверх, средний тон кожи"); {quoted}: the name in
# Russian quotes; {keywords}: keywords that are not already words of the
# name, comma-separated. A pattern is skipped when a field it uses is empty
# or, for the Russian "эмодзи: {phrase}", when the phrase has a colon.
EN_PATTERNS = [
    "{name}",
    "{phrase} emoji",
    "the {phrase} emoji",
    "a picture of the {phrase}",
    "{phrase}: {keywords}",
]
RU_PATTERNS = [
    "{name}",
    "эмодзи {quoted}",
    "эмодзи: {phrase}",
    "{name} — {keywords}",
]


def load_annotations(path):
    """{cp string without variation selectors: (tts name or None, [keywords])}."""
    out = {}
    if not os.path.exists(path):
        return out
    for a in ET.parse(path).getroot().iter("annotation"):
        cp = strip_vs(a.get("cp"))
        name, kws = out.get(cp, (None, []))
        text = (a.text or "").strip()
        if a.get("type") == "tts":
            name = text
        else:
            kws = [k.strip() for k in text.split("|") if k.strip()]
        out[cp] = (name, kws)
    return out


def load_territories(path):
    """{region code: name} from a CLDR main/<lang>.xml (the plain form, no alt)."""
    out = {}
    for t in ET.parse(path).getroot().iter("territory"):
        if t.get("alt") is None and t.text:
            out[t.get("type")] = t.text.strip()
    return out


def strip_vs(s):
    return "".join(ch for ch in s if ord(ch) not in VS)


def dedup(items):
    seen, out = set(), []
    for x in items:
        if x and x not in seen:
            seen.add(x)
            out.append(x)
    return out


class Names:
    """CLDR names and keywords of one language, with the derivations above."""

    def __init__(self, lang, root=CLDR):
        self.lang = lang
        self.base = load_annotations(os.path.join(root, "annotations", lang + ".xml"))
        self.derived = load_annotations(os.path.join(root, "annotationsDerived", lang + ".xml"))
        self.territories = load_territories(os.path.join(root, "main", lang + ".xml"))
        # The word for "flag" and "keycap", taken from derived entries that carry them.
        self.flag_word = self._prefix("\U0001F1EB\U0001F1F7", {"en": "flag", "ru": "флаг"}[lang])
        self.keycap_word = self._prefix("#\u20E3", {"en": "keycap", "ru": "клавиша"}[lang])

    def _prefix(self, cp, default):
        name = self.derived.get(cp, (None, []))[0]
        return name.split(":")[0].strip() if name and ":" in name else default

    def lookup(self, text):
        """(name, keywords, source) for a string, or (None, [], "none")."""
        key = strip_vs(text)
        for table, src in ((self.base, "cldr"), (self.derived, "cldr-derived")):
            name, kws = table.get(key, (None, []))
            if name:
                return name, list(kws), src
        return None, [], "none"

    def name(self, seq):
        text = "".join(chr(c) for c in seq)
        core = [c for c in seq if c not in VS]
        name, kws, src = self.lookup(text)
        if name:
            terr = self.territories.get(region_of(core) or "")
            return name, dedup(kws + [terr]) if terr else kws, src
        # Skin tones: the name of the rest and the tone names.
        tones = [c for c in core if c in TONES]
        if tones and len(tones) < len(core):
            rest = [c for c in core if c not in TONES]
            bname, bkws, bsrc = self.name(rest)
            tnames = [self.lookup(chr(t))[0] for t in tones]
            if bname and all(tnames):
                tn = dedup(tnames)
                return bname + ": " + ", ".join(tn), dedup(bkws + tn), "derived-tone"
            return None, [], "none"
        # Flags: a regional-indicator pair names a territory.
        if region_of(core):
            terr = self.territories.get(region_of(core))
            if terr:
                return self.flag_word + ": " + terr, [self.flag_word, terr], "derived-flag"
            return None, [], "none"
        # Keycaps: a key, U+20E3.
        if len(core) == 2 and core[1] == KEYCAP:
            return self.keycap_word + ": " + chr(core[0]), [self.keycap_word], "derived-keycap"
        # ZWJ sequences: the names of the parts.
        if ZWJ in core:
            parts, kws = [], []
            cur = []
            for c in core + [ZWJ]:
                if c == ZWJ:
                    if cur:
                        pname, pkws, _ = self.name(cur)
                        if not pname:
                            return None, [], "none"
                        parts.append(pname)
                        kws += pkws
                    cur = []
                else:
                    cur.append(c)
            return ", ".join(parts), dedup(kws), "derived-zwj"
        return self.single(core)

    def single(self, core):
        """The fallback for one code point that CLDR lacks."""
        if len(core) != 1:
            return None, [], "none"
        if self.lang == "en":
            name, src = unicode_name(core[0])
            return (name, [], src) if name else (None, [], "none")
        if self.lang == "ru" and core[0] in RU_EXTRA:
            return RU_EXTRA[core[0]], [], "ru-extra"
        return None, [], "none"


_icu = []


def icu_char_name(cp):
    """The Unicode name of a code point from the system's ICU (libicuuc), or ''."""
    if not _icu:
        _icu.append(None)
        import ctypes
        import ctypes.util
        lib = ctypes.util.find_library("icuuc")
        if lib:
            try:
                dll = ctypes.CDLL(lib)
                ver = lib.rsplit(".so.", 1)[-1].split(".")[0]
                for sym in ("u_charName", "u_charName_" + ver):
                    if hasattr(dll, sym):
                        f = getattr(dll, sym)
                        f.restype = ctypes.c_int32
                        f.argtypes = [ctypes.c_int32, ctypes.c_int, ctypes.c_char_p, ctypes.c_int32,
                                      ctypes.POINTER(ctypes.c_int)]
                        _icu[0] = f
                        break
            except OSError:
                pass
    f = _icu[0]
    if f is None:
        return ""
    import ctypes
    buf = ctypes.create_string_buffer(256)
    err = ctypes.c_int(0)
    n = f(cp, 0, buf, 256, ctypes.byref(err))  # 0: U_UNICODE_CHAR_NAME
    return buf.value.decode("ascii") if err.value <= 0 and n > 0 else ""


def unicode_name(cp):
    """(lower-case Unicode name, source) of one code point, or (None, "none")."""
    name = unicodedata.name(chr(cp), "")
    if name:
        return name.lower(), "unicodedata"
    name = icu_char_name(cp)
    if name:
        return name.lower(), "icu"
    return None, "none"


def is_private(seq):
    """Whether every code point of the sequence is a private-use one."""
    return all(unicodedata.category(chr(c)) == "Co" for c in seq)


def same_image_sequences(targets, res, font):
    """{index: [sequences]}: the flag and keycap sequences that render to each target image."""
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import build_dataset
    r = build_dataset.Renderer(font, res)
    want = {}
    for i, im in targets.items():
        want.setdefault(im.tobytes(), []).append(i)
    found = {}
    candidates = [(0x1F1E6 + a, 0x1F1E6 + b) for a in range(26) for b in range(26)]
    candidates += [(ord(k), 0xFE0F, KEYCAP) for k in KEYCAP_KEYS]
    for seq in candidates:
        im = r.square(r.rgba("".join(chr(c) for c in seq)))
        if im is not None:
            for i in want.get(im.tobytes(), []):
                found.setdefault(i, []).append(seq)
    return found


def load_populations(root):
    """{region code: population} from CLDR's supplementalData.xml (empty if absent)."""
    path = os.path.join(root, "supplemental", "supplementalData.xml")
    out = {}
    if os.path.exists(path):
        for t in ET.parse(path).getroot().iter("territory"):
            if t.get("population") and t.get("type"):
                out[t.get("type")] = float(t.get("population"))
    return out


def region_of(seq):
    if len(seq) == 2 and all(c in RI for c in seq):
        return "".join(chr(ord("A") + c - RI.start) for c in seq)
    return None


def pick_sequence(own, seqs, populations):
    """Of the sequences that draw the same image, the one to name it after: the
    flag of the most populous territory (CLDR population figures), else the
    image's own sequence, else the first."""
    flags = [s for s in seqs if region_of(s)]
    if flags:
        return max(flags, key=lambda s: (populations.get(region_of(s), -1), s == own))
    return own if own in seqs else seqs[0]


def en_phrase(name):
    """The English short name as running text."""
    head, sep, tail = name.partition(": ")
    if not sep:
        return name
    if head == "flag":
        return "flag of " + tail
    if head == "keycap":
        return "keycap " + tail
    if tail.endswith("skin tone"):
        return head + " with " + tail.replace(", ", " and ")
    return head + ", " + tail


def ru_phrase(name):
    """The Russian short name with a skin tone after a comma instead of a colon."""
    head, sep, tail = name.partition(": ")
    if sep and tail.endswith("тон кожи"):
        return head + ", " + tail
    return name


def ru_quoted(name):
    """The name in Russian quotes; quotes inside it become „inner“ ones."""
    return "«" + name.replace("«", "„").replace("»", "“") + "»"


def keyword_list(name, kws):
    words = set(name.lower().replace(":", " ").replace(",", " ").split())
    rest = [k for k in kws if k.lower() != name.lower() and not set(k.lower().split()) <= words]
    return ", ".join(rest[:MAX_KEYWORDS])


def captions_for(lang, name, kws):
    if not name:
        return []
    fields = {"name": name, "keywords": keyword_list(name, kws)}
    if lang == "en":
        fields["phrase"] = en_phrase(name)
        patterns = EN_PATTERNS
    else:
        fields["quoted"] = ru_quoted(name)
        fields["phrase"] = ru_phrase(name)
        patterns = RU_PATTERNS
    out = []
    for p in patterns:
        if "{keywords}" in p and not fields["keywords"]:
            continue
        if lang == "ru" and p.startswith("эмодзи:") and ":" in fields["phrase"]:
            continue
        out.append(p.format(**fields))
    return dedup(out)


def build(data_path, root=CLDR, font=None):
    d = np.load(data_path)
    if "codes" not in d.files:
        sys.exit(f"{data_path} has no 'codes' (the code point sequence of each image): rebuild it "
                 "with tools/train/build_dataset.py")
    groups = [str(g) for g in d["groups"]]
    labels = d["labels"]
    langs = {lang: Names(lang, root) for lang in LANGS}
    seqs = [tuple(int(x, 16) for x in str(code).split()) for code in d["codes"]]
    # Flags and private-use glyphs: every flag or keycap sequence that draws the same image.
    same = {}
    targets = {i: d["images"][i] for i, seq in enumerate(seqs) if is_private(seq) or region_of(seq)}
    if targets and font and os.path.exists(font):
        same = same_image_sequences(targets, int(d["res"]), font)
    populations = load_populations(root)
    entries = []
    for i, seq in enumerate(seqs):
        e = {"index": i, "sequence": ["%04X" % c for c in seq], "text": "".join(chr(c) for c in seq),
             "group": groups[int(labels[i])], "names": {}, "keywords": {}, "names_from": {},
             "captions": {}}
        named_after = seq
        if i in same:
            named_after = pick_sequence(seq, same[i], populations)
            if same[i] != [seq]:
                e["same_image"] = [["%04X" % c for c in s] for s in same[i]]
            if named_after != seq:
                e["named_after"] = ["%04X" % c for c in named_after]
        for lang in LANGS:
            name, kws, src = langs[lang].name(list(named_after))
            if named_after != seq:
                src = "same-image/" + src
            # A flag's keywords: the names of all territories whose flag draws this image
            # (not in the captions, which describe the image by the name it is named after).
            caption_kws = kws
            for s in same.get(i, []):
                terr = langs[lang].territories.get(region_of(s) or "")
                if terr:
                    kws = kws + [terr]
            e["names"][lang] = name
            e["keywords"][lang] = dedup(kws)
            e["names_from"][lang] = src
            e["captions"][lang] = captions_for(lang, name, caption_kws)
        entries.append(e)
    return entries


def cldr_version(root):
    try:
        with open(os.path.join(root, "dtd", "ldml.dtd"), encoding="utf-8") as f:
            for line in f:
                if "cldrVersion" in line and "#FIXED" in line:
                    return line.split('"')[-2]
    except OSError:
        pass
    return None


def check(entries, samples, seed):
    """Print coverage figures, the images with no Russian name and samples; return problems."""
    n = len(entries)
    print(f"{n} images")
    for lang in LANGS:
        named = sum(1 for e in entries if e["names"][lang])
        kw = sum(1 for e in entries if e["keywords"][lang])
        print(f"{lang}: {named}/{n} named, {kw}/{n} with keywords")
        by_src = {}
        for e in entries:
            by_src[e["names_from"][lang]] = by_src.get(e["names_from"][lang], 0) + 1
        for src, k in sorted(by_src.items(), key=lambda x: -x[1]):
            print(f"  {src:15s} {k}")
    missing = [e for e in entries if not e["names"]["ru"]]
    print(f"no Russian name: {len(missing)}")
    for e in missing:
        print(f"  {e['index']:5d} {' '.join(e['sequence']):22s} {e['group']:10s} {e['names']['en']}")
    by_group = {}
    for e in entries:
        g = by_group.setdefault(e["group"], [0, 0, 0])
        g[0] += 1
        g[1] += bool(e["names"]["en"])
        g[2] += bool(e["names"]["ru"])
    print("per group (images, en named, ru named):")
    for g, (k, en, ru) in by_group.items():
        print(f"  {g:11s} {k:5d} {en:5d} {ru:5d}")
    ncap = {lang: sum(len(e["captions"][lang]) for e in entries) for lang in LANGS}
    print("captions: " + ", ".join(f"{lang} {ncap[lang]}" for lang in LANGS))
    problems = []
    for e in entries:
        if not e["names"]["en"]:
            problems.append(f"{e['index']}: no English name")
        # A Russian name may be Latin ("CD"), but the captions should not all be.
        if not any("\u0400" <= ch <= "\u04FF" for c in e["captions"]["ru"] for ch in c):
            problems.append(f"{e['index']}: no Cyrillic in the Russian captions")
        for lang in LANGS:
            for c in e["captions"][lang]:
                if c != c.strip() or "  " in c or "{" in c:
                    problems.append(f"{e['index']}: malformed caption {c!r}")
    rng = random.Random(seed)
    print(f"{samples} random samples (seed {seed}):")
    for e in rng.sample(entries, min(samples, n)):
        print(f"  [{e['index']}] {e['text']} {' '.join(e['sequence'])} ({e['group']}; "
              f"{e['names_from']['en']}/{e['names_from']['ru']})")
        for lang in LANGS:
            print(f"    {lang} keywords: {', '.join(e['keywords'][lang])}")
            for c in e["captions"][lang]:
                print(f"    {lang}: {c}")
    print(f"problems: {len(problems)}")
    for p in problems[:20]:
        print("  " + p)
    return problems


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default=".train/emoji64.npz")
    ap.add_argument("-o", "--output", default=".train/captions.json")
    ap.add_argument("--cldr", default=CLDR, help="CLDR 'common' folder (default: %(default)s)")
    ap.add_argument("--font", default="/usr/share/fonts/truetype/noto/NotoColorEmoji.ttf",
                    help="the dataset's font, to name its private-use glyphs (default: %(default)s)")
    ap.add_argument("--check", action="store_true", help="print coverage figures and samples")
    ap.add_argument("--samples", type=int, default=8)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()

    if not os.path.isdir(os.path.join(args.cldr, "annotations")):
        sys.exit(f"no CLDR annotations under {args.cldr}: apt-get install unicode-cldr-core")
    entries = build(args.data, args.cldr, args.font)
    doc = {
        "source": {
            "dataset": os.path.basename(args.data),
            "cldr": args.cldr,
            "cldr_version": cldr_version(args.cldr),
            "unicodedata_version": unicodedata.unidata_version,
            "font": args.font,
            "licence": "CLDR data: Unicode License (Unicode-DFS-2016), Copyright 1991-2022 Unicode, Inc.",
        },
        "patterns": {"en": EN_PATTERNS, "ru": RU_PATTERNS},
        "images": entries,
    }
    tmp = args.output + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(doc, f, ensure_ascii=False, indent=1)
        f.write("\n")
    os.replace(tmp, args.output)
    n = len(entries)
    en = sum(1 for e in entries if e["names"]["en"])
    ru = sum(1 for e in entries if e["names"]["ru"])
    print(f"{n} images -> {args.output}: {en} English names, {ru} Russian names")
    if args.check:
        return 1 if check(entries, args.samples, args.seed) else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
