"""Measure the complaint classifier on its two evaluation sets.

``.venv/bin/python bench/classifier_accuracy.py [--misses]`` prints, for the realistic set (texts
written apart from the training corpus, by another writer, before any tuning — its README says
how) and for the old 195-text set (whose phrases once shaped the keyword classifier; a regression
floor): top-1/top-3 accuracy by phenomenon and by category, then for the realistic set the
per-category precision and recall, a category confusion matrix, the most frequent phenomenon
confusions, accuracy per language and per confidence band, and the mean time per text. Always
exits 0: it reports, the unit tests enforce the floors.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from chalicelib.catalog import get_catalog  # noqa: E402
from chalicelib.domain.classify import Suggestion, classify, model  # noqa: E402

DATA = ROOT / "tests" / "data"
REALISTIC = DATA / "classifier" / "eval_realistic.jsonl"
REALISTIC_README = DATA / "classifier" / "eval_realistic.md"
OLD = DATA / "classifier_eval.jsonl"
NONE = "(none)"


def _pct(hits: int, total: int) -> str:
    return f"{100.0 * hits / total:.1f}% ({hits}/{total})" if total else "n/a"


def _rows(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def _run(rows: list[dict[str, Any]]) -> tuple[list[list[Suggestion]], float]:
    catalog = get_catalog()
    out: list[list[Suggestion]] = []
    elapsed = 0.0
    for row in rows:
        start = time.perf_counter()
        out.append(classify(row["text"], catalog, limit=3))
        elapsed += time.perf_counter() - start
    return out, elapsed


def _headlines(name: str, rows: list[dict[str, Any]], results: list[list[Suggestion]]) -> None:
    top1 = top3 = cat1 = cat3 = 0
    for row, found in zip(rows, results, strict=True):
        phenomena = [s.phenomenon for s in found]
        categories = [s.category for s in found]
        top1 += phenomena[:1] == [row["phenomenon"]]
        top3 += row["phenomenon"] in phenomena
        cat1 += categories[:1] == [row["category"]]
        cat3 += row["category"] in categories
    total = len(rows)
    print(f"classifier top-1 ({name}): {_pct(top1, total)}")
    print(f"classifier top-3 ({name}): {_pct(top3, total)}")
    print(f"category top-1 ({name}): {_pct(cat1, total)}")
    print(f"category top-3 ({name}): {_pct(cat3, total)}")


def _details(rows: list[dict[str, Any]], results: list[list[Suggestion]]) -> None:
    categories = sorted(get_catalog().categories)
    pairs = [
        (row["category"], found[0].category if found else NONE)
        for row, found in zip(rows, results, strict=True)
    ]
    print("\nper category (realistic set): precision / recall / texts")
    for cat in categories:
        predicted = sum(1 for _, got in pairs if got == cat)
        actual = sum(1 for want, _ in pairs if want == cat)
        right = sum(1 for want, got in pairs if want == got == cat)
        precision = f"{right / predicted:.2f}" if predicted else " n/a"
        recall = f"{right / actual:.2f}" if actual else " n/a"
        print(f"  {cat:<24} {precision}  {recall}  {actual}")
    print("\ncategory confusion matrix (rows: true, columns: first suggestion)")
    cols = [*categories, NONE]
    short = {c: c[:6] for c in cols}
    print("  " + " " * 24 + " ".join(f"{short[c]:>6}" for c in cols))
    counts = Counter(pairs)
    for cat in categories:
        print(f"  {cat:<24}" + " ".join(f"{counts[(cat, c)] or '.':>6}" for c in cols))
    confusions = Counter(
        (row["phenomenon"], found[0].phenomenon if found else NONE)
        for row, found in zip(rows, results, strict=True)
        if not found or found[0].phenomenon != row["phenomenon"]
    )
    print("\nmost frequent phenomenon confusions (true → first suggestion: texts)")
    for (want, got), n in confusions.most_common(12):
        print(f"  {want} → {got}: {n}")
    print("\ntop-1 by language")
    for lang in sorted({r.get("lang", "?") for r in rows}):
        sub = [(r, f) for r, f in zip(rows, results, strict=True) if r.get("lang", "?") == lang]
        hits = sum(1 for r, f in sub if f and f[0].phenomenon == r["phenomenon"])
        print(f"  {lang:<8} {_pct(hits, len(sub))}")
    print("\ntop-1 by the first suggestion's confidence")
    for band in ("high", "medium", "low"):
        sub = [(r, f) for r, f in zip(rows, results, strict=True) if f and f[0].confidence == band]
        hits = sum(1 for r, f in sub if f[0].phenomenon == r["phenomenon"])
        print(f"  {band:<8} {_pct(hits, len(sub))}")
    empty = sum(1 for f in results if not f)
    print(f"texts with no suggestion: {_pct(empty, len(rows))}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--misses", action="store_true", help="list realistic texts not ranked first"
    )
    args = parser.parse_args()

    start = time.perf_counter()
    model()
    load_ms = 1000.0 * (time.perf_counter() - start)
    realistic = _rows(REALISTIC)
    old = _rows(OLD)
    how = REALISTIC_README.read_text(encoding="utf-8").strip().splitlines()
    print(f"realistic set: {len(realistic)} texts — {REALISTIC_README.relative_to(ROOT)}:")
    print("  " + "\n  ".join(line for line in how[:12] if line.strip()))
    results, elapsed = _run(realistic)
    _headlines(f"realistic set, {len(realistic)} texts", realistic, results)
    old_results, old_elapsed = _run(old)
    _headlines(f"old set, {len(old)} texts", old, old_results)
    _details(realistic, results)
    total = len(realistic) + len(old)
    size = (ROOT / "chalicelib" / "catalog" / "classifier_model.json").stat().st_size
    print(f"\nmean latency per text: {1000.0 * (elapsed + old_elapsed) / total:.3f} ms")
    print(f"model: {size / 1024:.0f} KiB, loaded in {load_ms:.0f} ms (once per process)")
    if args.misses:
        print("misses:")
        for row, found in zip(realistic, results, strict=True):
            got = [s.phenomenon for s in found]
            if got[:1] != [row["phenomenon"]]:
                print(f"  want {row['phenomenon']:<30} got {got}  {row['text']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
