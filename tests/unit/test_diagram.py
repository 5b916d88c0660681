"""The lifecycle diagram is generated from the ASL, and the README's copy cannot drift from it."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from infra import diagram

README = diagram.ROOT / "README.md"
REGENERATE = "run python -m infra.diagram --write README.md"
STATE_LINE = re.compile(r'^\s*state "(?P<label>[^"]*)" as (?P<id>\S+)$')
EDGE_LINE = re.compile(r"^\s*(?P<src>\S+) --> (?P<dst>\S+?)(?:: (?P<label>.*))?$")


@pytest.fixture(scope="module")
def definition() -> dict[str, Any]:
    return diagram.load()


def _parse(text: str) -> tuple[dict[str, str], set[tuple[str, str, str | None]]]:
    """Mermaid back into {id: label} and {(source label, target label, edge label)}."""
    labels: dict[str, str] = {"[*]": "[*]"}
    edges: set[tuple[str, str, str | None]] = set()
    for line in text.splitlines()[1:]:
        if m := STATE_LINE.match(line):
            labels[m["id"]] = m["label"].replace("#quot;", '"')
        elif m := EDGE_LINE.match(line):
            edges.add((labels[m["src"]], labels[m["dst"]], m["label"]))
        else:
            raise AssertionError(f"unexpected Mermaid line: {line!r}")
    return labels, edges


def _expected_edges(definition: dict[str, Any]) -> set[tuple[str, str, str | None]]:
    """Read straight from the ASL, independently of the renderer."""
    edges: set[tuple[str, str, str | None]] = {("[*]", definition["StartAt"], None)}
    for name, state in definition["States"].items():
        if "Next" in state:
            edges.add((name, state["Next"], None))
        if state["Type"] == "Succeed" or state.get("End"):
            edges.add((name, "[*]", None))
        for rule in state.get("Choices", []):
            variable = rule["Variable"].removeprefix("$.")
            if "IsPresent" in rule:
                edges.add((name, rule["Next"], f"{variable} is present"))
            else:
                edges.add((name, rule["Next"], f"{variable} = {rule['StringEquals']}"))
        if "Default" in state:
            edges.add((name, state["Default"], "otherwise"))
        for catcher in state.get("Catch", []):
            edges.add((name, catcher["Next"], ", ".join(catcher["ErrorEquals"])))
    return edges


def test_it_is_a_state_diagram(definition: dict[str, Any]) -> None:
    text = diagram.mermaid(definition)
    assert text.splitlines()[0] == "stateDiagram-v2"
    ids = [STATE_LINE.match(line)["id"] for line in text.splitlines() if STATE_LINE.match(line)]  # type: ignore[index]
    assert len(ids) == len(set(ids))
    assert all(re.fullmatch(r"[a-z][a-z0-9_]*", i) for i in ids), ids


def test_every_state_appears_with_its_name(definition: dict[str, Any]) -> None:
    labels, _ = _parse(diagram.mermaid(definition))
    assert set(labels.values()) - {"[*]"} == set(definition["States"])


def test_every_transition_appears_as_an_edge(definition: dict[str, Any]) -> None:
    _, edges = _parse(diagram.mermaid(definition))
    expected = _expected_edges(definition)
    assert expected - edges == set(), "transitions missing from the diagram"
    assert edges - expected == set(), "edges the ASL does not have"


def test_the_labels_read_as_the_brief_says(definition: dict[str, Any]) -> None:
    text = diagram.mermaid(definition)
    assert ": outcome = valid" in text
    assert ": States.Timeout" in text
    assert ": otherwise" in text
    assert "[*] --> record_the_ticket_as_accepted" in text
    assert "ticket_archived --> [*]" in text


def test_other_choice_rules_and_terminals_render() -> None:
    text = diagram.mermaid(
        {
            "StartAt": "Check",
            "States": {
                "Check": {
                    "Type": "Choice",
                    "Choices": [
                        {
                            "And": [
                                {"Variable": "$.n", "NumericGreaterThan": 3},
                                {"Not": {"Variable": "$.ok", "BooleanEquals": True}},
                            ],
                            "Next": "Oops",
                        },
                        {"Variable": "$.a", "StringEqualsPath": "$.b", "Next": "Done"},
                    ],
                    "Default": "Done",
                },
                "Done": {"Type": "Pass", "End": True},
                "Oops": {"Type": "Fail", "Error": "Bad"},
            },
        }
    )
    assert "check --> oops: n > 3 and not (ok = true)" in text
    assert "check --> done: a = b" in text
    assert "done --> [*]" in text
    assert "oops --> [*]: failed" in text


def test_write_replaces_only_the_marked_block(tmp_path: Path) -> None:
    readme = tmp_path / "README.md"
    readme.write_text(
        f"# Title\n\nbefore\n{diagram.START_MARKER}\nold\n{diagram.END_MARKER}\nafter\n",
        encoding="utf-8",
    )
    assert diagram.main(["--write", str(readme)]) == 0
    text = readme.read_text(encoding="utf-8")
    block = diagram.fenced(diagram.mermaid(diagram.load()))
    assert text == (
        f"# Title\n\nbefore\n{diagram.START_MARKER}\n{block}\n{diagram.END_MARKER}\nafter\n"
    )
    assert diagram.main(["--write", str(readme)]) == 0
    assert readme.read_text(encoding="utf-8") == text


def test_write_without_markers_fails_and_leaves_the_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    readme = tmp_path / "README.md"
    readme.write_text("# Title\n", encoding="utf-8")
    assert diagram.main(["--write", str(readme)]) == 1
    assert readme.read_text(encoding="utf-8") == "# Title\n"
    assert "markers" in capsys.readouterr().err


def test_the_readme_diagram_matches_the_state_machine(definition: dict[str, Any]) -> None:
    block = diagram.readme_block(README.read_text(encoding="utf-8"))
    assert block is not None, (
        f"README.md has no {diagram.START_MARKER} ... {diagram.END_MARKER} markers; "
        f"add them, then {REGENERATE}"
    )
    assert block == diagram.fenced(diagram.mermaid(definition)), (
        f"README.md's lifecycle diagram is out of date with the ASL: {REGENERATE}"
    )
