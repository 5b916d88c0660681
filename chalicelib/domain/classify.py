"""Suggest a complaint's category and phenomenon from the customer's own words, and check fields.

The front desk has seconds per call [001]: it types what the customer says and picks from a few
ranked suggestions, then asks only the chosen phenomenon's required questions.

The ranking is a model shipped as data (``chalicelib/catalog/classifier_model.json``): a
multinomial logistic regression over character n-grams (Chinese, after folding Traditional to
Simplified) and stemmed words (English), trained offline by ``make train-classifier`` from the
corpus in ``tests/data/classifier/train/`` plus the catalog's keywords (decision 0021). Inference
is pure Python: a sparse dot product and a softmax, well under a millisecond per text. The model
loads lazily, on the first classification, and once per process.

A text the model recognises no complaint in (greetings, small talk, gibberish: the corpus's
``_none`` class, or no known feature at all) gets no suggestion; ``explain_empty`` says why.
"""

from __future__ import annotations

import json
import math
import re
import threading
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from itertools import pairwise
from pathlib import Path
from typing import Any

from chalicelib.catalog import Catalog, Phenomenon, RequiredField
from chalicelib.domain.hanzi import to_simplified

_CJK = re.compile(r"[\u3400-\u9fff]+")
_WORD = re.compile(r"[a-z0-9]+")
_LONG_NUMBER = re.compile(r"\d{6,}")  # phone numbers, amounts in fen, order ids: one token
_STOPWORD_TEXT = (
    "a an the i my me we our you your it its is are was were be been to of in on at for and or "
    "but not no do does did have has had this that with from by as so they them he she his her "
    "can cant t s m can't keep get got been will would should could"
)
_STOPWORDS = frozenset(_STOPWORD_TEXT.split())
MODEL_PATH = Path(__file__).resolve().parent.parent / "catalog" / "classifier_model.json"
NONE_CLASS = "_none"
FEATURES_VERSION = 1  # bump when features() changes: the model must be retrained
# Suggestions below this probability are noise, not a ranking the desk should read.
_MIN_PROBABILITY = 0.01
# Confidence bands on the top suggestion's probability (bench/classifier_accuracy.py shows how
# accuracy varies across them).
_HIGH, _MEDIUM = 0.6, 0.3


@dataclass(frozen=True)
class Suggestion:
    category: str
    phenomenon: str | None
    score: float  # 0..1: the model's probability, comparable within one classify() call

    @property
    def confidence(self) -> str:
        """ "high" / "medium" / "low": how far the desk should trust this suggestion."""
        if self.score >= _HIGH:
            return "high"
        return "medium" if self.score >= _MEDIUM else "low"


def _stem(word: str) -> str:
    # Just enough English folding for complaint text: charges/charged/charging → charg.
    for suffix in ("ing", "ed", "es", "s"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3 and not word.endswith("ss"):
            return word[: -len(suffix)]
    return word


def normalize(text: str) -> str:
    """Full-width → half-width, lower case, traditional → simplified."""
    return to_simplified(unicodedata.normalize("NFKC", text).lower())


def features(text: str) -> list[str]:
    """The model's features of a text, sorted: Chinese character 1- to 4-grams per run of
    Chinese characters; English (or pinyin, or product names like "gprs") stemmed words and word
    pairs, prefixed with "#", and each word's character 4-grams, prefixed with "$" (so a typo
    keeps most of its word's evidence). Long digit runs are one token."""
    norm = _LONG_NUMBER.sub("0", normalize(text))
    found: set[str] = set()
    for run in _CJK.findall(norm):
        n = len(run)
        for i in range(n):
            for size in range(1, min(4, n - i) + 1):
                found.add(run[i : i + size])
    words = [_stem(w) for w in _WORD.findall(norm) if w not in _STOPWORDS]
    found.update("#" + w for w in words)
    found.update(f"#{a}_{b}" for a, b in pairwise(words))
    for w in words:
        padded = f"<{w}>"
        found.update("$" + padded[i : i + 4] for i in range(len(padded) - 3))
    return sorted(found)


class Model:
    """A trained linear model: per feature, sparse weights by class; per class, a bias."""

    def __init__(self, raw: Mapping[str, Any]) -> None:
        if raw.get("featuresVersion") != FEATURES_VERSION:
            raise ValueError("classifier model was trained with other features: retrain it")
        self.meta = {k: v for k, v in raw.items() if k not in ("weights", "bias")}
        self.classes: tuple[str, ...] = tuple(raw["classes"])
        self.bias: tuple[float, ...] = tuple(float(b) for b in raw["bias"])
        # "feature": [class index, weight, class index, weight, ...] — flat lists load fastest.
        self.weights: dict[str, list[float]] = raw["weights"]

    def probabilities(self, feats: Iterable[str]) -> list[float] | None:
        """Softmax over classes, or None when no feature of the text is known to the model."""
        scores = list(self.bias)
        known = [self.weights[f] for f in feats if f in self.weights]
        if not known:
            return None
        scale = 1.0 / math.sqrt(len(known))
        for row in known:
            for i in range(0, len(row), 2):
                scores[int(row[i])] += row[i + 1] * scale
        top = max(scores)
        exps = [math.exp(s - top) for s in scores]
        total = sum(exps)
        return [e / total for e in exps]


_MODEL: Model | None = None
_MODEL_LOCK = threading.Lock()


def model() -> Model:
    """The shipped model, read on first use (never at import: cold starts stay fast)."""
    global _MODEL
    if _MODEL is None:
        with _MODEL_LOCK:
            if _MODEL is None:
                _MODEL = Model(json.loads(MODEL_PATH.read_text(encoding="utf-8")))
    return _MODEL


def _category_mentions(norm: str, catalog: Catalog) -> list[str]:
    """Categories named outright ("我要投诉梦网业务")."""
    names = (
        (c.code, {normalize(c.name_zh), normalize(c.name_en)}) for c in catalog.categories.values()
    )
    return [code for code, found in names if any(n and n in norm for n in found)]


def classify(text: str, catalog: Catalog, limit: int = 5) -> list[Suggestion]:
    """Ranked phenomenon suggestions for a complaint description, best first; [] if none fit."""
    if not text or not text.strip() or limit <= 0:
        return []
    probs = model().probabilities(features(text))
    suggestions: list[Suggestion] = []
    if probs is not None:
        ranked = sorted(
            (
                (p, code)
                for code, p in zip(model().classes, probs, strict=True)
                if code != NONE_CLASS and p >= _MIN_PROBABILITY
            ),
            key=lambda item: (-item[0], item[1]),
        )
        none_p = probs[model().classes.index(NONE_CLASS)] if NONE_CLASS in model().classes else 0
        # Small talk: the model is surer it is no complaint than it is of any phenomenon.
        if not ranked or none_p < ranked[0][0]:
            for p, code in ranked[:limit]:
                owner = catalog.phenomenon(code)
                if owner is not None:  # a model older than the catalog may know retired codes
                    suggestions.append(Suggestion(owner.category, code, round(p, 3)))
    named = _category_mentions(normalize(text), catalog)
    if named and (not suggestions or suggestions[0].confidence != "high"):
        # "关于集团业务的问题" names a category and no clear phenomenon: the category comes first
        top = max(suggestions[0].score if suggestions else 0.0, _MEDIUM)
        suggestions = [Suggestion(c, None, top) for c in named] + suggestions
    elif named:
        suggested = {s.category for s in suggestions}
        last = min(suggestions[-1].score, _MEDIUM)
        suggestions += [Suggestion(c, None, last) for c in named if c not in suggested]
    return suggestions[:limit]


def explain_empty(text: str) -> str:
    """Why a text got no suggestion (for the desk: rephrase, or pick the phenomenon by hand)."""
    if not text or not text.strip():
        return "The text is empty."
    if model().probabilities(features(text)) is None:
        return "No word of the text is known to the classifier; describe the problem in a sentence."
    return (
        "The text reads as no complaint the catalog knows (small talk or an unrelated matter); "
        "describe the symptom, or choose the category and phenomenon by hand."
    )


# --- required fields -------------------------------------------------------------------------

_MOBILE = re.compile(r"^1[3-9]\d{9}$")
_LANDLINE = re.compile(r"^0\d{2,3}\d{7,8}$")
_SHORT_SERVICE = re.compile(r"^(1[02]\d{3}|9[56]\d{3})$")  # 10086, 12580, 95555: service lines
_TRUE_FALSE = {"true", "false", "yes", "no", "是", "否", "1", "0"}


def _blank(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    return isinstance(value, list | tuple | dict | set) and not value


def missing_required_fields(
    phenomenon: Phenomenon, fields: Mapping[str, Any] | None
) -> list[RequiredField]:
    """The phenomenon's required fields that are absent or blank, in the order they are asked."""
    given = fields or {}
    return [f for f in phenomenon.required_fields if _blank(given.get(f.name))]


def _phone_ok(value: Any) -> bool:
    if not isinstance(value, str | int) or isinstance(value, bool):
        return False
    digits = re.sub(r"[\s\-()]", "", str(value))
    if digits.startswith("+86"):
        digits = digits[3:]
    elif digits.startswith("0086"):
        digits = digits[4:]
    return bool(_MOBILE.match(digits) or _LANDLINE.match(digits) or _SHORT_SERVICE.match(digits))


def _datetime_ok(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    try:
        datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return False
    return True


def _number_ok(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int | float):
        return math.isfinite(value)
    if isinstance(value, str):
        try:
            return math.isfinite(float(value.strip()))
        except ValueError:
            return False
    return False


def _check(field: RequiredField, value: Any) -> str | None:
    if field.type == "string":
        return None if isinstance(value, str) else "must be text"
    if field.type == "phone":
        return None if _phone_ok(value) else "must be a mobile (11 digits) or landline number"
    if field.type == "datetime":
        return None if _datetime_ok(value) else "must be an ISO 8601 date-time"
    if field.type == "number":
        return None if _number_ok(value) else "must be a number"
    if field.type == "boolean":
        ok = isinstance(value, bool) or (isinstance(value, str) and value.lower() in _TRUE_FALSE)
        return None if ok else "must be true or false"
    if field.type == "enum":
        if value in field.options:
            return None
        return f"must be one of: {', '.join(field.options)}"
    return f"has unknown type {field.type!r}"


def validate_field_values(
    phenomenon: Phenomenon, fields: Mapping[str, Any] | None
) -> list[tuple[str, str]]:
    """(field name, message) for each given required field whose value has the wrong type.

    Blank fields are not reported here (that is ``missing_required_fields``), and fields the
    phenomenon does not ask for are left alone: agents may record extra facts.
    """
    given = fields or {}
    problems: list[tuple[str, str]] = []
    for field in phenomenon.required_fields:
        value = given.get(field.name)
        if _blank(value):
            continue
        message = _check(field, value)
        if message is not None:
            problems.append((field.name, message))
    return problems
