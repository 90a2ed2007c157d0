"""English words of a tip read as the Chinese words that Chinese tips use (glossary.toml).

The classifier learns from tips written mostly in Chinese; an English tip ("Ammonia leaking from the tank
at the cement plant") shares almost no character n-gram with them, so it was read by its few English
training tips alone. Each English word or phrase found in the glossary brings the Chinese word of the same
meaning (氨 泄漏 水泥厂), whose features the model has learnt from every Chinese tip (features.text_features).
Only the classifier's features use it: the text shown to staff, the keyword rules and the matcher do not.
"""

import re
import tomllib
from functools import cache
from pathlib import Path

GLOSSARY_FILE = Path(__file__).with_name("glossary.toml")
LONGEST_PHRASE = 3  # words
_KEY = re.compile(rf"[a-z]+( [a-z]+){{0,{LONGEST_PHRASE - 1}}}")
_CHINESE = re.compile(r"[\u4e00-\u9fff]+")
_WORDS = re.compile(r"[a-z]+")


@cache
def glossary(path: Path = GLOSSARY_FILE) -> dict[tuple[str, ...], tuple[str, ...]]:
    """English phrase (as words) -> its Chinese words; the file is checked as it is read."""
    with path.open("rb") as f:
        table = tomllib.load(f).get("english", {})
    out: dict[tuple[str, ...], tuple[str, ...]] = {}
    for key, value in table.items():
        words = tuple(str(value).split())
        if not _KEY.fullmatch(key) or not words or not all(_CHINESE.fullmatch(w) for w in words):
            raise ValueError(f"{path.name}: {key!r} = {value!r} is not an English phrase and Chinese words")
        out[tuple(key.split())] = words
    return out


def gloss_words(text: str) -> list[str]:
    """The Chinese words for the English words and phrases of normalised (lower-case) text, longest
    phrase first; a plural or third-person s is tried without it. Nothing for a text with no Latin word."""
    words = _WORDS.findall(text)
    if not words:
        return []
    table = glossary()
    out: list[str] = []
    i = 0
    while i < len(words):
        for size in range(min(LONGEST_PHRASE, len(words) - i), 0, -1):
            phrase = tuple(words[i : i + size])
            found = table.get(phrase)
            if found is None and phrase[-1].endswith("s") and len(phrase[-1]) > 3:
                found = table.get((*phrase[:-1], phrase[-1][:-1]))
            if found is not None:
                out.extend(found)
                i += size
                break
        else:
            i += 1
    return out
