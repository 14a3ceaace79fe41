"""Turning what a tool returned into a ToolResult."""

from __future__ import annotations

from huskycat.core.results import ToolResult, ToolStatus, coerce_result


def test_none_is_success_named_and_timed_by_the_executor() -> None:
    result = coerce_result("ruff", None, 1.5)
    assert (result.tool_name, result.success, result.status, result.duration) == (
        "ruff",
        True,
        ToolStatus.SUCCESS,
        1.5,
    )


def test_bool_and_int_exit_codes() -> None:
    assert coerce_result("a", True, 0.1).status is ToolStatus.SUCCESS
    assert coerce_result("a", False, 0.1).status is ToolStatus.FAILED
    assert coerce_result("a", 0, 0.1).status is ToolStatus.SUCCESS
    failed = coerce_result("a", 2, 0.1)
    assert failed.status is ToolStatus.FAILED
    assert failed.metadata["exit_code"] == 2
    assert failed.error_message == "exit code 2"


def test_tool_result_is_renamed_and_retimed_keeping_what_it_said() -> None:
    result = coerce_result("a", ToolResult("slow", True, 0.1, errors=0), 0.25)
    assert result.tool_name == "a" and result.duration == 0.25
    assert result.metadata["reported_name"] == "slow"
    assert result.metadata["reported_duration"] == 0.1


def test_tool_result_with_success_false_is_failed() -> None:
    assert coerce_result("a", ToolResult("a", False, 0.0), 0.1).status is ToolStatus.FAILED


def test_dict_of_fields_becomes_a_result() -> None:
    result = coerce_result("a", {"success": False, "errors": 3, "warnings": 1}, 0.2)
    assert (result.status, result.errors, result.warnings) == (ToolStatus.FAILED, 3, 1)
    result = coerce_result("a", {"status": "skipped", "error_message": "no files"}, 0.2)
    assert result.status is ToolStatus.SKIPPED and result.success
    assert result.skip_reason == "not_applicable"


def test_dict_with_unknown_fields_is_a_failure_naming_them() -> None:
    result = coerce_result("a", {"success": True, "colour": "red"}, 0.2)
    assert result.status is ToolStatus.FAILED
    assert "['colour']" in (result.error_message or "")


def test_unsupported_return_value_is_a_failure_that_shows_it() -> None:
    result = coerce_result("a", ["not", "a", "result"], 0.2)
    assert result.status is ToolStatus.FAILED
    assert "['not', 'a', 'result']" in (result.error_message or "")


def test_to_dict_is_json_ready() -> None:
    import json

    result = ToolResult("a", False, 0.5, status=ToolStatus.TIMEOUT, metadata={"x": {1, 2}})
    data = json.loads(json.dumps(result.to_dict()))
    assert data["status"] == "timeout" and data["metadata"]["x"] == [1, 2]
