"""ResultFacts: the typed view of a result's metadata, and writing it without mutating."""

from __future__ import annotations

import json

import pytest

from huskycat.core.results import ToolResult, ToolStatus
from huskycat.tools.facts import ResultFacts, facts_of, replace_result, with_facts, without_facts


def test_facts_read_every_known_key_typed() -> None:
    metadata = {
        "outcome": "findings",
        "files": 3,
        "batches": 1,
        "argv": ["ruff", "check", "a.py"],
        "version": "0.4.1",
        "returncodes": [1],
        "summary": ["would reformat a.py"],
        "modified_files": ["a.py"],
        "cached": True,
        "cached_files": 2,
        "left_out": {"b.py": "yamllint"},
        "timeout": 30,
        "hook_id": "x",
    }
    facts = ResultFacts.of(metadata)
    assert facts.outcome == "findings"
    assert facts.files == 3
    assert facts.argv == ("ruff", "check", "a.py")
    assert facts.returncodes == (1,)
    assert facts.modified_files == ("a.py",)
    assert facts.cached is True and facts.cached_files == 2
    assert facts.left_out == {"b.py": "yamllint"}
    assert facts.timeout == 30.0
    assert facts.summary == ("would reformat a.py",)
    assert facts.skip_reason is None and facts.shards is None


def test_facts_round_trip_to_the_same_metadata() -> None:
    metadata = {
        "outcome": "ok",
        "returncodes": [0, 0],
        "summary": ["2 files left unchanged"],
        "argv": ["black", "--check"],
        "version": "24.1.0",
        "files": 2,
        "batches": 2,
        "modified_files": [],
    }
    assert json.loads(json.dumps(ResultFacts.of(metadata).to_metadata())) == metadata


def test_a_value_of_the_wrong_type_reads_as_absent() -> None:
    facts = ResultFacts.of({"files": "3", "batches": True, "timeout": float("nan"), "argv": 7})
    assert facts == ResultFacts()
    assert ResultFacts().to_metadata() == {}


def test_with_facts_builds_a_new_result_keeping_key_order() -> None:
    result = ToolResult("ruff", False, 1.0, metadata={"outcome": "findings", "files": 1, "x": 1})
    changed = with_facts(result, files=2, cached=True, version=None, modified_files=("a.py",))
    assert result.metadata == {"outcome": "findings", "files": 1, "x": 1}  # untouched
    assert list(changed.metadata) == [
        "outcome",
        "files",
        "x",
        "cached",
        "version",
        "modified_files",
    ]
    assert changed.metadata["modified_files"] == ["a.py"]
    assert changed.metadata["version"] is None  # written: the version is not known
    assert facts_of(changed).files == 2
    assert changed.status is ToolStatus.FAILED and changed.duration == 1.0


def test_with_facts_refuses_a_name_it_does_not_know() -> None:
    with pytest.raises(TypeError, match="'filez'"):
        with_facts(ToolResult("ruff", True, 0.0), filez=1)


def test_without_facts_and_replace_result_share_nothing_with_the_original() -> None:
    result = ToolResult("ruff", True, 0.0, metadata={"cached": True, "files": 1})
    assert without_facts(result, "cached").metadata == {"files": 1}
    copy = replace_result(result, output="x")
    copy.metadata["files"] = 9
    copy.diagnostics.append(None)  # type: ignore[arg-type]
    assert result.metadata == {"cached": True, "files": 1} and result.diagnostics == []
