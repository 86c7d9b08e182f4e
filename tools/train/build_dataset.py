#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Render the colour emoji of Debian's fonts-noto-color-emoji into a small
image dataset with category labels.

  build_dataset.py [--font PATH] [--res 64] -o emoji64.npz

Every code point of the font's cmap that draws a colour glyph is rendered
(Pillow, FreeType CBDT bitmaps at their native 109 pt strike), plus the
skin-tone modifier sequences the font substitutes into a single glyph and
the regional-indicator pairs that form a flag. Each glyph is cropped to
its bounding box, centred on a square plain white canvas with a small
margin, and resized (Lanczos) to --res x --res RGB.

Labels: a group index into GROUPS, assigned by groups_for() from the
Unicode block of the (first) code point and keywords of its Unicode
character name (Python's unicodedata). The grouping follows the emoji
groups of Unicode's CLDR emoji ordering (Smileys & Emotion, People & Body,
Animals & Nature, Food & Drink, Travel & Places, Activities, Objects,
Symbols, Flags), with "Animals & Nature" split into animals and plants,
and is a hand-made approximation: see the tables below.

The glyphs are licensed under the SIL Open Font License 1.1 (Noto Color
Emoji, Google); the dataset and anything trained from it carry that
notice (see data/models/README.md).
"""
import argparse
import hashlib
import struct
import sys
import unicodedata

import numpy as np
from PIL import Image, ImageDraw, ImageFont

FONT = "/usr/share/fonts/truetype/noto/NotoColorEmoji.ttf"
GROUPS = ["smileys", "people", "animals", "plants", "food", "travel",
          "activities", "objects", "symbols", "flags"]

# Keyword rules on the Unicode name, checked in order before the block rules.
NAME_RULES = [
    ("plants", ["BLOSSOM", "ROSE", "TULIP", "SUNFLOWER", "HIBISCUS", "SEEDLING", "TREE", "CACTUS",
                "HERB", "SHAMROCK", "FOUR LEAF CLOVER", "MAPLE LEAF", "FALLEN LEAF", "LEAF FLUTTERING",
                "BOUQUET", "WILTED FLOWER", "LOTUS", "POTTED PLANT", "SHEAF OF RICE", "EAR OF RICE",
                "MUSHROOM", "EMPTY NEST", "NEST WITH EGGS", "HYACINTH", "CHERRY BLOSSOM", "WHITE FLOWER",
                "ROSETTE", "CORAL"]),
    ("smileys", ["FACE", "HEART", "SMILING", "GRINNING", "KISS MARK", "ANGER SYMBOL", "COLLISION SYMBOL",
                 "SPLASHING SWEAT", "DASH SYMBOL", "DIZZY SYMBOL", "SPEECH BALLOON", "THOUGHT BALLOON",
                 "SLEEPING SYMBOL", "HOLE", "SKULL", "PILE OF POO", "ALIEN", "ROBOT", "JACK-O-LANTERN",
                 "SEE-NO-EVIL", "HEAR-NO-EVIL", "SPEAK-NO-EVIL", "LOVE LETTER", "JAPANESE OGRE",
                 "JAPANESE GOBLIN", "GHOST", "ZOMBIE", "EYE IN SPEECH BUBBLE", "HUNDRED POINTS",
                 "RIGHT ANGER BUBBLE", "LEFT SPEECH BUBBLE"]),
    ("animals", ["CAT", "DOG", "MONKEY", "GORILLA", "ORANGUTAN", "WOLF", "FOX", "RACCOON", "LION", "TIGER",
                 "LEOPARD", "HORSE", "UNICORN", "ZEBRA", "DEER", "BISON", "COW", "OX", "WATER BUFFALO",
                 "PIG", "BOAR", "RAM", "SHEEP", "GOAT", "CAMEL", "LLAMA", "GIRAFFE", "ELEPHANT", "MAMMOTH",
                 "RHINOCEROS", "HIPPOPOTAMUS", "MOUSE", "RAT", "HAMSTER", "RABBIT", "CHIPMUNK", "BEAVER",
                 "HEDGEHOG", "BAT", "BEAR", "KOALA", "PANDA", "SLOTH", "OTTER", "SKUNK", "KANGAROO",
                 "BADGER", "PAW PRINTS", "TURKEY", "CHICKEN", "ROOSTER", "CHICK", "BIRD", "PENGUIN", "DOVE",
                 "EAGLE", "DUCK", "SWAN", "OWL", "DODO", "FEATHER", "FLAMINGO", "PEACOCK", "PARROT", "FROG",
                 "CROCODILE", "TURTLE", "LIZARD", "SNAKE", "DRAGON", "SAUROPOD", "T-REX", "WHALE",
                 "DOLPHIN", "SEAL", "FISH", "BLOWFISH", "OCTOPUS", "SPIRAL SHELL", "SNAIL", "BUTTERFLY",
                 "BUG", "ANT", "HONEYBEE", "BEETLE", "LADY BEETLE", "CRICKET", "COCKROACH", "SPIDER",
                 "SCORPION", "MOSQUITO", "FLY", "WORM", "MICROBE", "SHARK", "JELLYFISH", "GOOSE",
                 "MOOSE", "DONKEY", "WING", "POODLE", "CRAB", "LOBSTER", "SHRIMP", "SQUID", "OYSTER"]),
]

# Block rules: (first, last, group). Derived from the layout of the Unicode
# blocks that hold emoji (Blocks.txt of the Unicode Character Database).
BLOCK_RULES = [
    (0x1F1E6, 0x1F1FF, "flags"),
    (0x1F300, 0x1F320, "travel"),     # weather, sky, globes
    (0x1F330, 0x1F33F, "plants"),
    (0x1F340, 0x1F344, "plants"),
    (0x1F345, 0x1F37F, "food"),
    (0x1F380, 0x1F393, "activities"),  # celebration
    (0x1F3A0, 0x1F3CF, "activities"),  # entertainment, sport
    (0x1F3D0, 0x1F3F0, "travel"),      # buildings, places
    (0x1F3F3, 0x1F3F4, "flags"),
    (0x1F400, 0x1F43F, "animals"),
    (0x1F440, 0x1F450, "people"),      # body parts, hands
    (0x1F451, 0x1F462, "objects"),     # clothing
    (0x1F466, 0x1F487, "people"),
    (0x1F488, 0x1F4FF, "objects"),
    (0x1F500, 0x1F53D, "symbols"),
    (0x1F540, 0x1F5FF, "objects"),
    (0x1F5FA, 0x1F5FF, "travel"),
    (0x1F600, 0x1F637, "smileys"),
    (0x1F638, 0x1F640, "smileys"),
    (0x1F641, 0x1F644, "smileys"),
    (0x1F645, 0x1F64F, "people"),
    (0x1F680, 0x1F6FF, "travel"),      # transport and map symbols
    (0x1F7E0, 0x1F7EB, "symbols"),     # geometric shapes
    (0x1F90C, 0x1F90F, "people"),
    (0x1F910, 0x1F92F, "smileys"),
    (0x1F930, 0x1F93A, "people"),
    (0x1F93C, 0x1F945, "activities"),
    (0x1F947, 0x1F94F, "activities"),
    (0x1F950, 0x1F96F, "food"),
    (0x1F970, 0x1F97A, "smileys"),
    (0x1F97C, 0x1F97F, "objects"),
    (0x1F980, 0x1F9AF, "animals"),
    (0x1F9B0, 0x1F9B9, "people"),
    (0x1F9C0, 0x1F9CB, "food"),
    (0x1F9CD, 0x1F9DF, "people"),
    (0x1F9E0, 0x1F9FF, "objects"),
    (0x1FA70, 0x1FAFF, "objects"),
    (0x2600, 0x26FF, "symbols"),
    (0x2700, 0x27BF, "symbols"),
    (0x2B00, 0x2BFF, "symbols"),
    (0x2190, 0x21FF, "symbols"),
    (0x2300, 0x23FF, "objects"),
    (0x3000, 0x33FF, "symbols"),
    (0x1F100, 0x1F2FF, "symbols"),
    (0x0000, 0x2FFF, "symbols"),
]

# Name keywords that win over the block for code points whose block is mixed.
LATE_RULES = [
    ("food", ["BANANA", "APPLE", "PEAR", "PEACH", "CHERRIES", "STRAWBERRY", "GRAPES", "MELON",
              "WATERMELON", "TANGERINE", "LEMON", "PINEAPPLE", "MANGO", "KIWI", "COCONUT", "TOMATO",
              "AVOCADO", "EGGPLANT", "AUBERGINE", "POTATO", "CARROT", "CORN", "PEPPER", "CUCUMBER",
              "BROCCOLI", "GARLIC", "ONION", "PEANUT", "BEANS", "CHESTNUT", "BREAD", "CROISSANT",
              "BAGUETTE", "PRETZEL", "BAGEL", "PANCAKES", "WAFFLE", "CHEESE", "MEAT", "POULTRY", "BACON",
              "HAMBURGER", "FRENCH FRIES", "PIZZA", "HOT DOG", "SANDWICH", "TACO", "BURRITO", "TAMALE",
              "FALAFEL", "EGG", "COOKING", "SHALLOW PAN", "POT OF FOOD", "FONDUE", "BOWL", "SALAD",
              "POPCORN", "BUTTER", "SALT", "CANNED", "BENTO", "CRACKER", "RICE", "CURRY", "SPAGHETTI",
              "SWEET POTATO", "ODEN", "SUSHI", "TEMPURA", "FISH CAKE", "MOON CAKE", "DANGO", "DUMPLING",
              "FORTUNE COOKIE", "TAKEOUT", "ICE CREAM", "SHAVED ICE", "DOUGHNUT", "COOKIE", "CAKE",
              "CUPCAKE", "PIE", "CHOCOLATE", "CANDY", "LOLLIPOP", "CUSTARD", "HONEY POT", "BABY BOTTLE",
              "MILK", "COFFEE", "TEAPOT", "TEACUP", "SAKE", "CHAMPAGNE", "WINE", "COCKTAIL", "TROPICAL DRINK",
              "BEER", "CLINKING", "TUMBLER", "CUP WITH STRAW", "BUBBLE TEA", "BEVERAGE BOX", "MATE",
              "ICE CUBE", "CHOPSTICKS", "FORK AND KNIFE", "SPOON", "OLIVE", "FLATBREAD", "BLUEBERRIES",
              "BELL PEPPER", "JAR", "GINGER", "PEA POD", "LEAFY GREEN", "STEAMING BOWL", "ROASTED",
              "GINGER ROOT"]),
]


def _match(name, words):
    padded = " " + name + " "
    return any((" " + w + " ") in padded for w in words)


def groups_for(cps):
    """Group name for a sequence of code points (its first code point decides)."""
    cp = cps[0]
    if len(cps) >= 2 and 0x1F1E6 <= cp <= 0x1F1FF:
        return "flags"
    if cp in (0x1F3F3, 0x1F3F4) and len(cps) > 1:
        return "flags"
    name = unicodedata.name(chr(cp), "")
    if 0x1F638 <= cp <= 0x1F640:  # cat faces with expressions
        return "smileys"
    if "CLOCK" in name:
        return "objects"
    for group, words in LATE_RULES:
        if name and _match(name, words):
            return group
    for group, words in sorted(NAME_RULES, key=lambda r: r[0] != "animals"):
        if name and _match(name, words):
            return group
    for lo, hi, group in BLOCK_RULES:
        if lo <= cp <= hi:
            return group
    return "objects"


def cmap_codepoints(path):
    """All code points of the font's best Unicode cmap subtable (formats 4 and 12)."""
    with open(path, "rb") as f:
        data = f.read()
    num_tables = struct.unpack(">H", data[4:6])[0]
    tables = {}
    for i in range(num_tables):
        tag, _, off, length = struct.unpack(">4sIII", data[12 + 16 * i:28 + 16 * i])
        tables[tag.decode("latin-1")] = (off, length)
    off, _ = tables["cmap"]
    n = struct.unpack(">H", data[off + 2:off + 4])[0]
    cps = set()
    for i in range(n):
        plat, enc, sub = struct.unpack(">HHI", data[off + 4 + 8 * i:off + 12 + 8 * i])
        p = off + sub
        fmt = struct.unpack(">H", data[p:p + 2])[0]
        if fmt == 12:
            ngroups = struct.unpack(">I", data[p + 12:p + 16])[0]
            for g in range(ngroups):
                start, end, _ = struct.unpack(">III", data[p + 16 + 12 * g:p + 28 + 12 * g])
                cps.update(range(start, end + 1))
        elif fmt == 4:
            segx2 = struct.unpack(">H", data[p + 6:p + 8])[0]
            ends = struct.unpack(">%dH" % (segx2 // 2), data[p + 14:p + 14 + segx2])
            starts = struct.unpack(">%dH" % (segx2 // 2), data[p + 16 + segx2:p + 16 + 2 * segx2])
            for s, e in zip(starts, ends):
                if s != 0xFFFF:
                    cps.update(range(s, e + 1))
    return sorted(cps)


class Renderer:
    def __init__(self, path, res, margin=0.06):
        self.font = ImageFont.truetype(path, 109)
        self.res = res
        self.margin = margin

    def rgba(self, text):
        canvas = Image.new("RGBA", (160 * max(1, len(text)), 160), (255, 255, 255, 0))
        ImageDraw.Draw(canvas).text((8, 8), text, font=self.font, embedded_color=True)
        return canvas

    def width(self, text):
        return self.font.getlength(text)

    def square(self, rgba):
        """Crop to content, centre on white with a margin, resize; None if empty or not colour."""
        a = np.asarray(rgba)
        alpha = a[..., 3]
        ys, xs = np.nonzero(alpha > 8)
        if len(xs) == 0:
            return None
        crop = rgba.crop((xs.min(), ys.min(), xs.max() + 1, ys.max() + 1))
        side = int(round(max(crop.size) * (1 + 2 * self.margin)))
        bg = Image.new("RGBA", (side, side), (255, 255, 255, 255))
        bg.alpha_composite(crop, ((side - crop.size[0]) // 2, (side - crop.size[1]) // 2))
        img = bg.convert("RGB").resize((self.res, self.res), Image.LANCZOS)
        return np.asarray(img, dtype=np.uint8)


def is_colour(img):
    x = img.astype(np.int16)
    sat = x.max(axis=2) - x.min(axis=2)
    return (sat > 40).mean() > 0.01


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--font", default=FONT)
    ap.add_argument("--res", type=int, default=64)
    ap.add_argument("--no-skin-tones", action="store_true")
    ap.add_argument("-o", "--output", required=True)
    args = ap.parse_args()

    r = Renderer(args.font, args.res)
    one = r.width(chr(0x1F600))
    cps = [c for c in cmap_codepoints(args.font)
           if c >= 0xA9 and not (0x1F3FB <= c <= 0x1F3FF) and not (0x1F1E6 <= c <= 0x1F1FF)
           and not (0xE0020 <= c <= 0xE007F) and not (0xFE00 <= c <= 0xFE0F)
           and c not in (0x200D, 0x20E3)]
    seqs = [(c,) for c in cps]
    # Skin-tone variants: kept when the font ligates base + modifier into one glyph.
    if not args.no_skin_tones:
        for c in cps:
            if r.width(chr(c) + chr(0x1F3FB)) <= one * 1.01:
                seqs += [(c, m) for m in range(0x1F3FB, 0x1F400)]
    # Flags: regional-indicator pairs that the font ligates (invalid pairs share one fallback image).
    for a in range(26):
        for b in range(26):
            seqs.append((0x1F1E6 + a, 0x1F1E6 + b))

    fallback = set()
    for probe in ["\U0001F1FF\U0001F1FF", "\U0001F1FD\U0001F1FD"]:
        im = r.square(r.rgba(probe))
        if im is not None:
            fallback.add(hashlib.sha1(im.tobytes()).hexdigest())

    images, labels, codes, seen = [], [], [], set(fallback)
    for s in seqs:
        text = "".join(chr(c) for c in s)
        if r.width(text) > one * 1.01:
            continue
        im = r.square(r.rgba(text))
        if im is None or not is_colour(im):
            continue
        h = hashlib.sha1(im.tobytes()).hexdigest()
        if h in seen:
            continue
        seen.add(h)
        images.append(im)
        labels.append(GROUPS.index(groups_for(s)))
        codes.append(" ".join("%04X" % c for c in s))

    images = np.stack(images)
    labels = np.asarray(labels, dtype=np.int64)
    np.savez_compressed(args.output, images=images, labels=labels, codes=np.asarray(codes),
                        groups=np.asarray(GROUPS), res=args.res)
    counts = np.bincount(labels, minlength=len(GROUPS))
    print(f"{len(images)} images {args.res}x{args.res} -> {args.output}")
    for g, n in zip(GROUPS, counts):
        print(f"  {g:11s} {n}")


if __name__ == "__main__":
    sys.exit(main())
