"""A trained linear text model (TF-IDF + logistic regression heads, and a naive Bayes head on the counts),
stored as plain arrays (.npz).

Inference is done here with numpy rather than scikit-learn: one small matrix product per tip, and the
file loads without pickle, so it stays usable across scikit-learn versions.
"""

import json
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any, Literal, NamedTuple

import numpy as np
from numpy.typing import NDArray

from triage.analysis.features import (
    FEATURE_VERSION,
    SOUND,
    ngram_codes,
    sound_features,
    syllable_pairs,
    term_codes,
)
from triage.analysis.glossary import gloss_words
from triage.analysis.pinyin import first_readings

FloatArray = NDArray[np.float32]
Decisions = dict[str, FloatArray]  # each head's decision values for one text (TextModel.decisions)
Reads = Literal["tfidf", "counts"]
_READS: dict[str, Reads] = {"tfidf": "tfidf", "counts": "counts"}  # an unknown one is a KeyError: unreadable


class Vector(NamedTuple):
    """One text's features: the vocabulary ids present, their TF-IDF weights and their raw counts."""

    idx: NDArray[np.intp]
    tfidf: FloatArray
    counts: FloatArray

    def values(self, reads: Reads) -> FloatArray:
        return self.counts if reads == "counts" else self.tfidf


def _unique_counts(ids: NDArray[np.intp]) -> tuple[NDArray[np.intp], NDArray[np.intp]]:
    """The distinct ids, ascending, and how often each occurs: np.unique(ids, return_counts=True) in a few
    plain array operations (its Python-level layers cost more than the work on a tip's few hundred ids)."""
    if not len(ids):
        return ids, ids
    ids.sort()
    bounds = np.concatenate(([0], (ids[1:] != ids[:-1]).nonzero()[0] + 1, [len(ids)]))
    return ids[bounds[:-1]], bounds[1:] - bounds[:-1]


def _side_by_side(coefs: dict[str, NDArray[Any]]) -> tuple[FloatArray, dict[str, slice]]:
    """The heads' coefficient matrices as one float32 block, and the columns of each head in it."""
    columns: dict[str, slice] = {}
    start = 0
    for name, coef in coefs.items():
        columns[name] = slice(start, start + coef.shape[1])
        start += coef.shape[1]
    return np.hstack(list(coefs.values())).astype(np.float32, copy=False), columns


@dataclass(frozen=True)
class LinearHead:
    classes: tuple[str, ...]
    coef: FloatArray  # (n_features, n_classes), or (n_features, 1) for a binary head
    intercept: FloatArray
    reads: Reads = "tfidf"  # logistic regression reads TF-IDF weights; naive Bayes reads counts

    @property
    def binary(self) -> bool:
        return self.coef.shape[1] == 1

    def decision(self, vector: Vector) -> FloatArray:
        vals = vector.values(self.reads)
        return np.asarray(vals @ self.coef[vector.idx] + self.intercept, dtype=np.float32)

    def probabilities(self, vector: Vector) -> dict[str, float]:
        return dict(zip(self.classes, self.probabilities_of(self.decision(vector)).tolist(), strict=True))

    def probabilities_of(self, z: FloatArray) -> NDArray[np.float64]:
        """P(class) in the order of `classes`, from this head's decision values (`TextModel.decisions`)."""
        z64 = z.astype(np.float64)
        if self.binary:
            p = 1.0 / (1.0 + np.exp(-z64[0]))
            return np.array((1.0 - p, p))
        # The ufuncs' own reductions: z.max() and e.sum() go through Python-level wrappers.
        e = np.exp(z64 - np.maximum.reduce(z64))
        return np.asarray(e / np.add.reduce(e))


@dataclass(frozen=True)
class TextModel:
    vocabulary: dict[str, int]
    idf: FloatArray
    heads: dict[str, LinearHead]
    meta: dict[str, Any]

    @cached_property
    def terms(self) -> list[str]:
        """Feature index -> term."""
        out = [""] * len(self.vocabulary)
        for term, i in self.vocabulary.items():
            out[i] = term
        return out

    @cached_property
    def _term_table(self) -> NDArray[np.str_]:
        """`terms` as a numpy string array (as the model file stores them)."""
        return np.array(self.terms, dtype=np.str_)

    @cached_property
    def _term_codes(self) -> tuple[NDArray[np.uint64], NDArray[np.intp]]:
        """The `term_code` of every term that text can yield, sorted, then a sentinel above them all so that
        every search lands on an element; and the feature index of each (-1 for the sentinel)."""
        all_codes, usable = term_codes(self.terms, self._term_table)
        codes = all_codes[usable]
        ids = np.arange(len(all_codes), dtype=np.intp)[usable]
        order = np.argsort(codes)
        sentinel = np.array([np.iinfo(np.uint64).max], dtype=np.uint64)
        return np.concatenate((codes[order], sentinel)), np.append(ids[order], -1)

    @cached_property
    def _block(self) -> tuple[FloatArray, dict[str, slice]]:
        """Every head's coefficients side by side, and each head's columns, so that a text's rows are
        gathered once for all heads (`decisions`). `load` builds the heads as views of this block."""
        return _side_by_side({name: head.coef for name, head in self.heads.items()})

    def decisions(self, vector: Vector) -> Decisions:
        """Every head's decision values for one text (`LinearHead.decision` of each, in one gather)."""
        block, columns = self._block
        rows = block[vector.idx]
        by_reads = {reads: vector.values(reads) @ rows for reads in {h.reads for h in self.heads.values()}}
        return {
            name: np.asarray(by_reads[head.reads][columns[name]] + head.intercept, dtype=np.float32)
            for name, head in self.heads.items()
        }

    @cached_property
    def _sound_ids(self) -> NDArray[np.intp]:
        """The feature index of each pair of syllables (`pinyin.first_readings`' numbers), -1 where the
        vocabulary has none: the sound features of a text without Latin letters found by array lookups."""
        _, names = first_readings()
        number = {name: i for i, name in enumerate(names)}
        ids = np.full((len(names), len(names)), -1, dtype=np.intp)
        terms = self.terms
        for i in np.flatnonzero(np.strings.startswith(self._term_table, SOUND)).tolist():
            first, _, second = terms[i][len(SOUND) :].partition(" ")
            if first in number and second in number:
                ids[number[first], number[second]] = i
        return ids

    def _sounds(self, text: str, glossed: list[str]) -> NDArray[np.intp]:
        """The feature indices of the sound features of text and its glossed words."""
        pairs = None if glossed else syllable_pairs(text)
        if pairs is not None:
            found = self._sound_ids[pairs]
            return found[found >= 0]
        # Latin letters: typed pinyin is read word by word. Sound features are looked up by name, one
        # for about every character.
        vocabulary = self.vocabulary
        return np.array(
            [i for w in (text, *glossed) for i in map(vocabulary.get, sound_features(w)) if i is not None],
            dtype=np.intp,
        )

    def vectorise(self, text: str) -> Vector:
        """The features of normalised text (`text_features`): their counts, and their sublinear TF-IDF,
        L2-normalised, as scikit-learn's TfidfVectorizer computes it."""
        # The n-grams are looked up as packed numbers, sorted so the binary searches narrow as they go,
        # never as strings: looking those up one by one was most of the classifier's time.
        codes, ids = self._term_codes
        glossed = gloss_words(text)
        grams = np.concatenate([ngram_codes(w) for w in (text, *glossed)]) if glossed else ngram_codes(text)
        grams.sort()
        pos = codes.searchsorted(grams)
        found = ids[pos[codes[pos] == grams]]
        sounds = self._sounds(text, glossed)
        idx, counts = _unique_counts(np.concatenate((found, sounds)) if len(sounds) else found)
        if not len(idx):
            return Vector(np.zeros(0, dtype=np.intp), np.zeros(0, dtype=np.float32), np.zeros(0, np.float32))
        tf = counts.astype(np.float32)
        vals = (1.0 + np.log(tf)) * self.idf[idx]
        norm = float(np.sqrt(np.dot(vals, vals)))
        return Vector(idx, (vals / norm if norm else vals).astype(np.float32), tf)

    def is_current(self) -> bool:
        return int(self.meta.get("feature_version", -1)) == FEATURE_VERSION

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        arrays: dict[str, Any] = {
            "terms": np.array(self.terms, dtype=np.str_),
            "idf": self.idf.astype(np.float32),
            "meta": np.array(json.dumps(self.meta, ensure_ascii=False)),
        }
        for name, head in self.heads.items():
            arrays[f"{name}.classes"] = np.array(head.classes, dtype=np.str_)
            arrays[f"{name}.coef"] = head.coef.astype(np.float32)
            arrays[f"{name}.intercept"] = head.intercept.astype(np.float32)
            arrays[f"{name}.reads"] = np.array(head.reads)
        tmp = path.with_name(path.name + ".tmp.npz")
        np.savez_compressed(tmp, **arrays)
        tmp.replace(path)  # a reader never sees half a file

    @classmethod
    def load(cls, path: Path) -> "TextModel":
        with np.load(path, allow_pickle=False) as data:
            table = data["terms"]
            terms: list[str] = table.tolist()
            names = sorted({k.split(".")[0] for k in data.files if k.endswith(".coef")})
            # The heads' coefficients are read into one block, each head a view of its columns: the
            # block `decisions` gathers from, without a second copy of them.
            block, columns = _side_by_side({name: data[f"{name}.coef"] for name in names})
            heads = {
                name: LinearHead(
                    tuple(str(c) for c in data[f"{name}.classes"]),
                    block[:, columns[name]],
                    data[f"{name}.intercept"].astype(np.float32),
                    _READS[str(data[f"{name}.reads"])] if f"{name}.reads" in data.files else "tfidf",
                )
                for name in names
            }
            model = cls(
                vocabulary={t: i for i, t in enumerate(terms)},
                idf=data["idf"].astype(np.float32),
                heads=heads,
                meta=json.loads(str(data["meta"])),
            )
            # The cached properties already at hand.
            model.__dict__.update(_block=(block, columns), terms=terms, _term_table=table)
            return model
