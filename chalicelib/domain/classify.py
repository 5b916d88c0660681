"""Suggest a complaint's category and phenomenon from the customer's own words, and check fields.

The front desk has seconds per call [001]: it types what the customer says and picks from a few
ranked suggestions, then asks only the chosen phenomenon's required questions. No ML dependency:
the catalog's keywords are the model, so operations staff tune classification by editing data.

Scoring, per phenomenon: weighted keyword/phrase hits (longer phrases count more; a keyword shared
by several phenomena counts less), then a character-bigram (Chinese) and word (English) overlap
as a fallback for wordings no keyword anticipated. Traditional Chinese is folded to simplified
first. The index is built once per catalog and cached.
"""

from __future__ import annotations

import math
import re
import unicodedata
import weakref
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from chalicelib.catalog import Catalog, Phenomenon, RequiredField
from chalicelib.domain.hanzi import to_simplified

_CJK = re.compile(r"[\u3400-\u9fff]+")
_WORD = re.compile(r"[a-z0-9]+")
_ASCII_ONLY = re.compile(r"^[\x00-\x7f]+$")
_STOPWORD_TEXT = (
    "a an the i my me we our you your it its is are was were be been to of in on at for and or "
    "but not no do does did have has had this that with from by as so they them he she his her "
    "can cant t s m can't keep get got been will would should could"
)
_STOPWORDS = frozenset(_STOPWORD_TEXT.split())
# Raw scores are squashed into 0..1 with this half-point: a single specific phrase scores ~0.5.
_HALF_SCORE = 2.5
_MIN_RAW = 0.3  # below this a suggestion is noise (one shared bigram), not a signal
# Tuned on tests/data/classifier_eval.jsonl; run bench/classifier_accuracy.py after changing them.
_BIGRAM_WEIGHT = 0.35
_WORD_WEIGHT = 0.5
_NAME_WEIGHT = 0.6  # phrases from a phenomenon's own name are weaker evidence than keywords
_GAP = 8  # characters allowed between the parts of a "收不到*短信" keyword
_GAP_DISCOUNT = 0.85  # a gapped match is looser than a contiguous phrase of the same length
_PROSE_STRENGTH = 0.3  # bigrams from causes/checks/scripts, relative to keyword bigrams
_FALLBACK_DAMPING = 0.5


@dataclass(frozen=True)
class Suggestion:
    category: str
    phenomenon: str | None
    score: float  # 0..1, comparable within one classify() call


def _stem(word: str) -> str:
    # Just enough English folding for complaint text: charges/charged/charging → charg.
    for suffix in ("ing", "ed", "es", "s"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3 and not word.endswith("ss"):
            return word[: -len(suffix)]
    return word


def _words(text: str) -> list[str]:
    return [_stem(w) for w in _WORD.findall(text)]


def normalize(text: str) -> str:
    """Full-width → half-width, lower case, traditional → simplified."""
    return to_simplified(unicodedata.normalize("NFKC", text).lower())


# Function characters: a bigram containing one ("一直", "怎么", "员说") says nothing about the
# problem, and with only a few dozen phenomena its idf is noisy enough to outvote real evidence.
_FUNCTION_CHARS = frozenset(
    "的了我你他她它们是在都就也还很么吗呢吧啊呀这那个一和与或被把给让说要会能怎什再又才只每天"
)


def _bigrams(text: str) -> set[str]:
    grams: set[str] = set()
    for run in _CJK.findall(text.replace("*", " ")):
        for i in range(len(run) - 1):
            if run[i] not in _FUNCTION_CHARS and run[i + 1] not in _FUNCTION_CHARS:
                grams.add(run[i : i + 2])
    return grams


@dataclass(frozen=True)
class _Phrase:
    text: str  # normalized; for English a space-padded stemmed word sequence
    english: bool
    weight: float
    # Keywords written "收不到*短信" match with up to _GAP characters in between, because
    # customers insert words ("收不到任何短信") that no fixed phrase anticipates.
    pattern: re.Pattern[str] | None = None

    def found_in(self, norm: str, english: str) -> bool:
        if self.pattern is not None:
            return self.pattern.search(norm) is not None
        return self.text in (english if self.english else norm)


class _Index:
    """Everything classify() needs, precomputed from one catalog."""

    def __init__(self, catalog: Catalog) -> None:
        self.category_of = {p.code: p.category for p in catalog.phenomena.values()}
        # "我要投诉梦网业务" names a category but no phenomenon: suggest the category alone.
        self.category_names = {
            c.code: tuple({normalize(c.name_zh), normalize(c.name_en)})
            for c in catalog.categories.values()
        }
        owners: dict[tuple[str, bool], set[str]] = defaultdict(set)
        raw: dict[str, list[tuple[str, bool, float]]] = {}
        for p in catalog.phenomena.values():
            entries = [(k, 1.0) for k in p.keywords]
            # Two-character name parts ("短信" of "垃圾邮件/短信/彩信") are too generic to count.
            entries += [
                (part, _NAME_WEIGHT)
                for part in re.split(r"[-/()()、]", p.name_zh)
                if len(part) >= 3
            ]
            entries += [(p.name_en, _NAME_WEIGHT)]
            items: list[tuple[str, bool, float]] = []
            for phrase, factor in entries:
                norm = normalize(phrase).strip()
                if len(norm) < 2:
                    continue
                english = bool(_ASCII_ONLY.match(norm))
                key = f" {' '.join(_words(norm))} " if english else norm
                if english and not key.strip():
                    continue
                items.append((key, english, factor))
                owners[(key, english)].add(p.code)
            raw[p.code] = items

        self.phrases: dict[str, tuple[_Phrase, ...]] = {}
        for code, items in raw.items():
            phrases: dict[tuple[str, bool], _Phrase] = {}
            for key, english, factor in items:
                size = len(key.split()) if english else len(key.replace("*", ""))
                # Two-character Chinese words and single English words are common and weak;
                # four-plus characters or multi-word phrases are nearly unambiguous.
                base = 0.6 + 0.4 * (size - 1) if english else 0.4 + 0.4 * (size - 1)
                if "*" in key:
                    base *= _GAP_DISCOUNT
                weight = min(base, 2.4) * factor / len(owners[(key, english)])
                old = phrases.get((key, english))
                if old is None or old.weight < weight:
                    pattern = None
                    if "*" in key and not english:
                        parts = [re.escape(part) for part in key.split("*") if part]
                        pattern = re.compile(f".{{0,{_GAP}}}?".join(parts))
                    phrases[(key, english)] = _Phrase(key, english, weight, pattern)
            self.phrases[code] = tuple(phrases.values())

        grams: dict[str, dict[str, float]] = {}
        words: dict[str, dict[str, float]] = {}
        for p in catalog.phenomena.values():
            # The guide's prose (causes, checks, scripts, questions) says how this problem is
            # talked about; it widens the fallback vocabulary at a lower strength than keywords.
            prose = [c.name_zh for c in p.causes] + list(p.checks) + list(p.scripts.values())
            prose += [f.prompt for f in p.required_fields]
            strengths = dict.fromkeys(_bigrams(normalize(" ".join(prose))), _PROSE_STRENGTH)
            strengths.update(
                dict.fromkeys(
                    (g for q in self.phrases[p.code] if not q.english for g in _bigrams(q.text)),
                    1.0,
                )
            )
            grams[p.code] = strengths
            cause_words = dict.fromkeys(
                _words(normalize(" ".join(c.name_en for c in p.causes))), 0.5
            )
            cause_words.update(
                dict.fromkeys(
                    (w for q in self.phrases[p.code] if q.english for w in q.text.split()), 1.0
                )
            )
            words[p.code] = {
                w: v for w, v in cause_words.items() if w not in _STOPWORDS and len(w) > 1
            }
        self.bigrams = self._weights(grams)
        self.words = self._weights(words)

    @staticmethod
    def _weights(units_by_code: Mapping[str, dict[str, float]]) -> dict[str, dict[str, float]]:
        """unit → {phenomenon: strength·idf / sqrt(size)}: rare units and small vocabularies
        weigh more."""
        df: dict[str, int] = defaultdict(int)
        for units in units_by_code.values():
            for unit in units:
                df[unit] += 1
        n = len(units_by_code)
        out: dict[str, dict[str, float]] = defaultdict(dict)
        for code, units in units_by_code.items():
            norm = math.sqrt(sum(units.values())) if units else 1.0
            for unit, strength in units.items():
                out[unit][code] = strength * math.log(1 + n / df[unit]) / norm
        return dict(out)


_INDEXES: weakref.WeakKeyDictionary[Catalog, _Index] = weakref.WeakKeyDictionary()


def _index(catalog: Catalog) -> _Index:
    index = _INDEXES.get(catalog)
    if index is None:
        index = _INDEXES[catalog] = _Index(catalog)
    return index


def _subsumes(longer: _Phrase, shorter: _Phrase) -> bool:
    return (
        longer is not shorter and longer.english == shorter.english and shorter.text in longer.text
    )


def _raw_scores(text: str, index: _Index) -> dict[str, float]:
    norm = normalize(text)
    english = f" {' '.join(_words(norm))} "
    scores: dict[str, float] = defaultdict(float)
    for code, phrases in index.phrases.items():
        hits = [p for p in phrases if p.found_in(norm, english)]
        for p in hits:
            # A phrase inside a longer matched phrase ("充值失败" in "充值卡充值失败") is the
            # same evidence; count the longer one only.
            if not any(_subsumes(q, p) for q in hits):
                scores[code] += p.weight
    fallback: dict[str, float] = defaultdict(float)
    for gram in _bigrams(norm):
        for code, w in index.bigrams.get(gram, {}).items():
            fallback[code] += _BIGRAM_WEIGHT * w
    for word in set(english.split()) - _STOPWORDS:
        for code, w in index.words.get(word, {}).items():
            fallback[code] += _WORD_WEIGHT * w
    # The overlap is a fallback for wordings no keyword anticipated; once keywords fired, it
    # only breaks ties instead of outvoting them.
    damping = _FALLBACK_DAMPING if scores else 1.0
    for code, value in fallback.items():
        scores[code] += damping * value
    return scores


def classify(text: str, catalog: Catalog, limit: int = 5) -> list[Suggestion]:
    """Ranked phenomenon suggestions for a complaint description, best first; [] if none fit."""
    if not text or not text.strip() or limit <= 0:
        return []
    index = _index(catalog)
    scores = _raw_scores(text, index)
    ranked = sorted(
        ((raw, code) for code, raw in scores.items() if raw >= _MIN_RAW),
        key=lambda item: (-item[0], item[1]),
    )
    suggestions = [
        Suggestion(index.category_of[code], code, round(raw / (raw + _HALF_SCORE), 3))
        for raw, code in ranked[:limit]
    ]
    norm = normalize(text)
    suggested = {s.category for s in suggestions}
    for category, names in index.category_names.items():
        if category not in suggested and any(name in norm for name in names):
            suggestions.append(Suggestion(category, None, round(1.0 / (1.0 + _HALF_SCORE), 3)))
    suggestions.sort(key=lambda s: -s.score)
    return suggestions[:limit]


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
