"""Measure the complaint classifier on the labelled evaluation set.

Run after editing catalog keywords or the classifier, to see whether suggestions got better:
``.venv/bin/python bench/classifier_accuracy.py [--misses]``. Prints top-1/top-3 accuracy at
phenomenon and category level and the mean latency per text; always exits 0 (it reports, the unit
tests enforce the floor).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from chalicelib.catalog import get_catalog  # noqa: E402
from chalicelib.domain.classify import classify  # noqa: E402

EVAL_SET = ROOT / "tests" / "data" / "classifier_eval.jsonl"


def _pct(hits: int, total: int) -> str:
    return f"{100.0 * hits / total:.1f}% ({hits}/{total})"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--misses", action="store_true", help="list texts not ranked first")
    args = parser.parse_args()

    rows = [json.loads(line) for line in EVAL_SET.read_text(encoding="utf-8").splitlines() if line]
    catalog = get_catalog()
    classify("预热", catalog)  # builds the index, which is a one-off per catalog

    top1 = top3 = cat1 = cat3 = 0
    elapsed = 0.0
    misses: list[str] = []
    for row in rows:
        start = time.perf_counter()
        suggestions = classify(row["text"], catalog, limit=3)
        elapsed += time.perf_counter() - start
        phenomena = [s.phenomenon for s in suggestions]
        categories = [s.category for s in suggestions]
        top1 += phenomena[:1] == [row["phenomenon"]]
        top3 += row["phenomenon"] in phenomena
        cat1 += categories[:1] == [row["category"]]
        cat3 += row["category"] in categories
        if phenomena[:1] != [row["phenomenon"]]:
            misses.append(f"  want {row['phenomenon']:<30} got {phenomena}  {row['text']}")

    total = len(rows)
    print(f"classifier top-1 accuracy: {_pct(top1, total)}")
    print(f"classifier top-3 accuracy: {_pct(top3, total)}")
    print(f"category top-1 accuracy: {_pct(cat1, total)}")
    print(f"category top-3 accuracy: {_pct(cat3, total)}")
    print(f"mean latency per text: {1000.0 * elapsed / total:.3f} ms")
    if args.misses:
        print("misses:")
        print("\n".join(misses))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
