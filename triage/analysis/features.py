"""Features for the learned classifier: character n-grams, jieba words and keyword-rule hits."""

from collections.abc import Sequence

from triage.analysis.keywords import KeywordHit

FEATURE_VERSION = 1  # bump when features change: older model files are then stale


def text_features(text: str, tokens: Sequence[str], hits: Sequence[KeywordHit]) -> list[str]:
    feats: list[str] = []
    squeezed = text.replace(" ", "")
    for n in (2, 3):
        feats.extend(squeezed[i : i + n] for i in range(len(squeezed) - n + 1))
    words = [t for t in tokens if t.strip() and not (len(t) == 1 and not t.isalnum())]
    feats.extend("w:" + w for w in words)
    feats.extend("b:" + a + "|" + b for a, b in zip(words, words[1:], strict=False))
    for hit in hits:
        feats.extend("k:" + label for label, _ in hit.labels)
    return feats
