"""Features for the learned classifier: character 1–3-grams of the normalised text.

Cross-validation on the training tips chose these alone: jieba words, word bigrams and keyword-rule hits
as extra features did not help (the keyword hits made it worse once generated tips were added).
"""

FEATURE_VERSION = 2  # bump when features change: older model files are then stale
NGRAM_SIZES = (1, 2, 3)


def text_features(text: str) -> list[str]:
    """The character n-grams of already normalised text, as scikit-learn's char analyzer would give them."""
    feats = list(text)
    for n in NGRAM_SIZES[1:]:
        feats.extend(text[i : i + n] for i in range(len(text) - n + 1))
    return feats
