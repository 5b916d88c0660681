"""The lifecycle state machine as a Mermaid diagram, generated from the ASL so it cannot drift.

    python -m infra.diagram                    print the Mermaid for the lifecycle state machine
    python -m infra.diagram --write README.md  replace the diagram between the README's markers

The README keeps the diagram between `<!-- lifecycle-diagram:start -->` and
`<!-- lifecycle-diagram:end -->`; tests/unit/test_diagram.py fails when it differs from the ASL.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NamedTuple

ROOT = Path(__file__).resolve().parent.parent
LIFECYCLE_ASL = ROOT / "statemachines" / "ticket_lifecycle.asl.json"
START_MARKER = "<!-- lifecycle-diagram:start -->"
END_MARKER = "<!-- lifecycle-diagram:end -->"
TERMINAL = "[*]"
OTHERWISE = "otherwise"

# Choice comparison operators, without their `Path` variants (handled in `_condition`).
_OPERATORS: dict[str, str] = {
    "Equals": "=",
    "LessThan": "<",
    "GreaterThan": ">",
    "LessThanEquals": "<=",
    "GreaterThanEquals": ">=",
    "Matches": "matches",
}
_TYPES = ("String", "Numeric", "Boolean", "Timestamp")
_TESTS = ("IsPresent", "IsNull", "IsString", "IsNumeric", "IsBoolean", "IsTimestamp")
# Words Mermaid's state diagram grammar treats specially; never used as bare ids.
_ENTITIES = {"#": "#35;", '"': "#quot;", ";": "#59;"}
_ESCAPE = re.compile('[#";]')
_RESERVED = {"state", "note", "end", "direction", "class", "classdef", "style", "click"}


class Edge(NamedTuple):
    """One transition: `source` and `target` are state names, or `[*]` for start and end."""

    source: str
    target: str
    label: str | None


def transitions(definition: dict[str, Any]) -> Iterator[Edge]:
    """Every transition of a definition, in document order: the start, then per state its
    Choice branches, Default, Next (or end) and Catch edges."""
    yield Edge(TERMINAL, definition["StartAt"], None)
    for name, state in definition["States"].items():
        kind = state.get("Type")
        for rule in state.get("Choices", []):
            yield Edge(name, rule["Next"], _condition(rule))
        if "Default" in state:
            yield Edge(name, state["Default"], OTHERWISE)
        if "Next" in state:
            yield Edge(name, state["Next"], None)
        elif kind in ("Succeed", "Fail") or state.get("End"):
            yield Edge(name, TERMINAL, "failed" if kind == "Fail" else None)
        for catcher in state.get("Catch", []):
            yield Edge(name, catcher["Next"], ", ".join(catcher["ErrorEquals"]))


def _variable(path: str) -> str:
    return path.removeprefix("$.").removeprefix("$") or "$"


def _condition(rule: dict[str, Any]) -> str:
    """A Choice rule in words: `outcome = valid`, `a > 3 and not (b = x)`."""
    if "And" in rule:
        return " and ".join(_condition(r) for r in rule["And"])
    if "Or" in rule:
        return " or ".join(_condition(r) for r in rule["Or"])
    if "Not" in rule:
        return f"not ({_condition(rule['Not'])})"
    variable = _variable(str(rule.get("Variable", "$")))
    for key, value in rule.items():
        if key in ("Variable", "Next"):
            continue
        if key in _TESTS:
            verb = key.removeprefix("Is").lower()
            return f"{variable} is {'' if value else 'not '}{verb}"
        kind = next((t for t in _TYPES if key.startswith(t)), None)
        if kind is None:
            continue
        op = key.removeprefix(kind)
        is_path = op.endswith("Path")
        op = op.removesuffix("Path")
        if op in _OPERATORS:
            shown = _variable(str(value)) if is_path else _literal(value)
            return f"{variable} {_OPERATORS[op]} {shown}"
    if "Condition" in rule:  # JSONata
        return str(rule["Condition"])
    return "condition"


def _literal(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _safe_id(name: str, taken: set[str]) -> str:
    base = re.sub(r"[^0-9a-z]+", "_", name.lower()).strip("_") or "state"
    if base[0].isdigit() or base in _RESERVED:
        base = f"s_{base}"
    candidate, n = base, 2
    while candidate in taken:
        candidate, n = f"{base}_{n}", n + 1
    taken.add(candidate)
    return candidate


def _text(value: str) -> str:
    """Text Mermaid shows as-is: no quotes, line breaks or entity starts of its own."""
    return _ESCAPE.sub(lambda m: _ENTITIES[m.group()], " ".join(value.split()))


def mermaid(definition: dict[str, Any]) -> str:
    """The definition as a Mermaid `stateDiagram-v2`, ending with a newline."""
    taken: set[str] = set()
    ids = {name: _safe_id(name, taken) for name in definition["States"]}
    ids[TERMINAL] = TERMINAL
    lines = ["stateDiagram-v2"]
    lines += [f'    state "{_text(name)}" as {ids[name]}' for name in definition["States"]]
    for edge in transitions(definition):
        arrow = f"    {ids[edge.source]} --> {ids[edge.target]}"
        lines.append(f"{arrow}: {_text(edge.label)}" if edge.label else arrow)
    return "\n".join(lines) + "\n"


def fenced(diagram: str) -> str:
    """What goes between the README's markers."""
    return f"```mermaid\n{diagram}```"


def readme_block(text: str) -> str | None:
    """The text between the markers (stripped), or None when the markers are missing."""
    start = text.find(START_MARKER)
    end = text.find(END_MARKER, start + len(START_MARKER)) if start >= 0 else -1
    if start < 0 or end < 0:
        return None
    return text[start + len(START_MARKER) : end].strip()


def replace_block(text: str, diagram: str) -> str | None:
    """`text` with the block between the markers replaced; None when the markers are missing."""
    if readme_block(text) is None:
        return None
    start = text.index(START_MARKER) + len(START_MARKER)
    end = text.index(END_MARKER, start)
    return f"{text[:start]}\n{fenced(diagram)}\n{text[end:]}"


def load(path: Path = LIFECYCLE_ASL) -> dict[str, Any]:
    definition: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return definition


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m infra.diagram", description=__doc__)
    parser.add_argument("--asl", type=Path, default=LIFECYCLE_ASL, help="the ASL definition")
    parser.add_argument(
        "--write",
        type=Path,
        metavar="FILE",
        help="replace the block between the lifecycle-diagram markers in FILE",
    )
    args = parser.parse_args(argv)
    diagram = mermaid(load(args.asl))
    if args.write is None:
        sys.stdout.write(diagram)
        return 0
    try:
        text = args.write.read_text(encoding="utf-8")
    except OSError as err:
        print(f"{args.write}: cannot read: {err.strerror}", file=sys.stderr)
        return 1
    updated = replace_block(text, diagram)
    if updated is None:
        print(
            f"{args.write}: no {START_MARKER} ... {END_MARKER} markers; add them where the "
            "diagram belongs",
            file=sys.stderr,
        )
        return 1
    if updated == text:
        print(f"{args.write}: the lifecycle diagram is up to date")
        return 0
    args.write.write_text(updated, encoding="utf-8")
    print(f"{args.write}: lifecycle diagram written")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
