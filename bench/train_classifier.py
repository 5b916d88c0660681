"""Train the complaint classifier offline: `make train-classifier`.

Reads the training corpus (``tests/data/classifier/train/*.jsonl``: ``{text, category,
phenomenon, lang}``; ``_none.jsonl`` holds small talk and unrelated matters, the ``_none`` class)
plus the catalog's keywords and phenomenon names as short extra examples, and fits a multinomial
logistic regression over ``chalicelib.domain.classify.features`` by stochastic gradient descent.
Pure Python, deterministic (sorted inputs, a fixed seed): the same corpus and catalog give the
same model file, byte for byte. Writes ``chalicelib/catalog/classifier_model.json`` with the
corpus hash it was trained from (a unit test checks it still matches the corpus).

    python -m bench.train_classifier            # train and write the model
    python -m bench.train_classifier --holdout  # tune: train on 80 % of the corpus, score the rest

The evaluation sets (``tests/data/classifier/eval_realistic.jsonl``, ``tests/data/
classifier_eval.jsonl``) are never read here: they judge the model, they do not shape it.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import random
import sys
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from chalicelib.catalog import get_catalog  # noqa: E402
from chalicelib.domain.classify import (  # noqa: E402
    FEATURES_VERSION,
    MODEL_PATH,
    NONE_CLASS,
    features,
)

CORPUS = ROOT / "tests" / "data" / "classifier" / "train"
SEED = 20261129
EPOCHS = 25
LEARNING_RATE = 0.6
DECAY = 0.25  # learning rate at epoch e: LEARNING_RATE / (1 + DECAY * e)
L2 = 1e-5
MIN_DF = 2  # a feature seen in fewer examples is noise (and makes the model big)
PRUNE = 0.3  # smaller weights are dropped from the shipped model (3.6 MB → 1 MB, same accuracy)
KEYWORD_WEIGHT = 1.0  # a catalog keyword counts as this many corpus examples


def corpus_rows() -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for path in sorted(CORPUS.glob("*.jsonl")):
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if line.strip():
                row = json.loads(line)
                if not isinstance(row.get("text"), str) or not row.get("phenomenon"):
                    raise SystemExit(f"{path.name}:{n}: needs text and phenomenon")
                rows.append(row)
    return rows


def corpus_hash() -> str:
    """Hash of the corpus files and of the catalog's words the trainer reads."""
    digest = hashlib.sha256()
    for path in sorted(CORPUS.glob("*.jsonl")):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    for text, label, _ in catalog_examples():
        digest.update(f"{label}\t{text}\n".encode())
    digest.update(f"features:{FEATURES_VERSION}".encode())
    return digest.hexdigest()


def catalog_examples() -> list[tuple[str, str, float]]:
    """Keywords and names: the catalog's own words are strong, short examples."""
    out: list[tuple[str, str, float]] = []
    for p in sorted(get_catalog().phenomena.values(), key=lambda p: p.code):
        words = [k.replace("*", " ") for k in p.keywords] + [p.name_zh, p.name_en]
        for word in sorted(set(words)):
            out.append((word, p.code, KEYWORD_WEIGHT))
    return out


def _examples(rows: list[dict[str, Any]]) -> list[tuple[str, str, float]]:
    known = set(get_catalog().phenomena) | {NONE_CLASS}
    skipped = Counter(r["phenomenon"] for r in rows if r["phenomenon"] not in known)
    if skipped:
        print(f"skipped labels the catalog does not know: {dict(skipped)}", file=sys.stderr)
    texts = [(r["text"], r["phenomenon"], 1.0) for r in rows if r["phenomenon"] in known]
    return texts + catalog_examples()


def train(examples: list[tuple[str, str, float]]) -> dict[str, Any]:
    classes = sorted({label for _, label, _ in examples})
    index = {c: i for i, c in enumerate(classes)}
    k = len(classes)
    featured = [(features(text), index[label], weight) for text, label, weight in examples]
    df: Counter[str] = Counter(f for feats, _, _ in featured for f in feats)
    vocab = sorted(f for f, n in df.items() if n >= MIN_DF)
    fid = {f: i for i, f in enumerate(vocab)}
    data = [
        ([fid[f] for f in feats if f in fid], label, weight) for feats, label, weight in featured
    ]
    data = [d for d in data if d[0]]
    weights = [[0.0] * k for _ in vocab]
    bias = [0.0] * k
    rng = random.Random(SEED)
    order = list(range(len(data)))
    for epoch in range(EPOCHS):
        rng.shuffle(order)
        lr = LEARNING_RATE / (1 + DECAY * epoch)
        shrink = 1.0 - lr * L2
        for i in order:
            ids, label, weight = data[i]
            scale = 1.0 / math.sqrt(len(ids))
            raw = [0.0] * k
            for f in ids:
                raw = [a + b for a, b in zip(raw, weights[f], strict=True)]
            scores = [b + r * scale for b, r in zip(bias, raw, strict=True)]
            top = max(scores)
            exps = [math.exp(s - top) for s in scores]
            total = sum(exps)
            grad = [e / total for e in exps]
            grad[label] -= 1.0
            step = lr * weight
            bias = [b - step * g for b, g in zip(bias, grad, strict=True)]
            c = step * scale
            for f in ids:
                weights[f] = [w * shrink - c * g for w, g in zip(weights[f], grad, strict=True)]
    sparse: dict[str, list[float]] = {}
    for f, row in zip(vocab, weights, strict=True):
        kept: list[float] = []
        for cls, w in enumerate(row):
            if abs(w) >= PRUNE:
                kept += [cls, round(w, 3)]
        if kept:
            sparse[f] = kept
    return {
        "featuresVersion": FEATURES_VERSION,
        "classes": classes,
        "bias": [round(b, 4) for b in bias],
        "weights": sparse,
    }


def _score(model_raw: dict[str, Any], rows: list[dict[str, Any]]) -> tuple[float, float]:
    from chalicelib.domain.classify import Model

    m = Model(model_raw)
    top1 = top3 = 0
    for row in rows:
        probs = m.probabilities(features(row["text"])) or [0.0] * len(m.classes)
        ranked = [c for _, c in sorted(zip(probs, m.classes, strict=True), reverse=True)]
        ranked = (
            [c for c in ranked if c != NONE_CLASS] if row["phenomenon"] != NONE_CLASS else ranked
        )
        top1 += ranked[:1] == [row["phenomenon"]]
        top3 += row["phenomenon"] in ranked[:3]
    return top1 / len(rows), top3 / len(rows)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--holdout", action="store_true", help="score on 20 %% held out")
    args = parser.parse_args()
    rows = corpus_rows()
    if args.holdout:
        by_label: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for row in rows:
            by_label[row["phenomenon"]].append(row)
        rng = random.Random(SEED)
        train_rows: list[dict[str, Any]] = []
        held: list[dict[str, Any]] = []
        for label in sorted(by_label):
            group = by_label[label][:]
            rng.shuffle(group)
            cut = max(1, len(group) // 5)
            held += group[:cut]
            train_rows += group[cut:]
        raw = train(_examples(train_rows))
        top1, top3 = _score(raw, held)
        print(f"held out {len(held)} of {len(rows)}: top-1 {top1:.3f}, top-3 {top3:.3f}")
        print(f"features kept: {len(raw['weights'])}")
        return 0
    raw = train(_examples(rows))
    raw = {
        "corpusSha256": corpus_hash(),
        "corpusTexts": len(rows),
        "trainer": {
            "epochs": EPOCHS,
            "learningRate": LEARNING_RATE,
            "decay": DECAY,
            "l2": L2,
            "minDf": MIN_DF,
            "prune": PRUNE,
            "seed": SEED,
        },
        **raw,
    }
    text = json.dumps(raw, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
    MODEL_PATH.write_text(text + "\n", encoding="utf-8")
    print(
        f"wrote {MODEL_PATH.relative_to(ROOT)}: {len(raw['classes'])} classes, "
        f"{len(raw['weights'])} features, {len(text.encode()) / 1024:.0f} KiB, from {len(rows)} texts"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
