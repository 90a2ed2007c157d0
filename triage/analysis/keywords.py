"""Domain keyword rules (keywords.toml): which words point to which subtype, and which mean urgency."""

import tomllib
from collections import defaultdict
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from pydantic import BaseModel, ValidationError

from triage.analysis.wordsearch import word_pattern
from triage.errors import ValidationFailed

KEYWORDS_FILE = Path(__file__).with_name("keywords.toml")
URGENT = "urgent"


class _KeywordsFile(BaseModel):
    subtypes: dict[str, dict[str, list[str]]]
    urgent: dict[str, list[str]]


@dataclass(frozen=True, slots=True)
class KeywordHit:
    word: str
    start: int
    end: int
    labels: tuple[tuple[str, float], ...]  # ("env/emission", 3.0), ("urgent", 4.0) …


class KeywordRules:
    def __init__(self, weights: dict[str, dict[str, float]]) -> None:
        """`weights`: word -> {label: weight}; labels are "category/subtype" or "urgent"."""
        self.weights = weights
        self.labels = sorted({label for w in weights.values() for label in w if label != URGENT})
        self._word_labels = {word: tuple(labels.items()) for word, labels in weights.items()}
        self._pattern = word_pattern(list(weights))

    def words(self) -> list[str]:
        return list(self.weights)

    def scan(self, text: str) -> list[KeywordHit]:
        word_labels = self._word_labels
        return [KeywordHit(m[0], *m.span(), word_labels[m[0]]) for m in self._pattern.finditer(text)]

    @staticmethod
    def scores(hits: list[KeywordHit]) -> dict[str, float]:
        """Label -> summed weight; a word counts once however often it is repeated."""
        seen: set[str] = set()
        out: dict[str, float] = defaultdict(float)
        for hit in hits:
            if hit.word in seen:
                continue
            seen.add(hit.word)
            for label, weight in hit.labels:
                out[label] += weight
        return dict(out)


@lru_cache(maxsize=2)
def load_keywords(path: Path = KEYWORDS_FILE) -> KeywordRules:
    try:
        data = _KeywordsFile.model_validate(tomllib.loads(path.read_text(encoding="utf-8")))
        weights: dict[str, dict[str, float]] = defaultdict(dict)
        for label, by_weight in [*data.subtypes.items(), (URGENT, data.urgent)]:
            if label != URGENT and label.count("/") != 1:
                raise ValueError(f"subtype key must be category/subtype: {label!r}")
            for weight, words in by_weight.items():
                for word in words:
                    weights[word.lower()][label] = float(weight)
    except (OSError, tomllib.TOMLDecodeError, ValidationError, ValueError) as exc:
        raise ValidationFailed(f"keyword rules {path}: {exc}", code="bad_config") from exc
    return KeywordRules(dict(weights))
