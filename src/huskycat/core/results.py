"""Results of running one tool, and the turning of whatever a tool returned into one.

A tool handed to the executor may return a :class:`ToolResult`, a ``bool``, an ``int``
exit code (0 is success), a ``dict`` of :class:`ToolResult` fields, or ``None``
(success). :func:`coerce_result` maps each of these to a :class:`ToolResult`; a value
of any other type is a FAILED result that says what came back.
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any, Literal

Severity = Literal["error", "warning", "info"]


class ToolStatus(str, enum.Enum):
    """Where a tool is in its life; the value is what progress callbacks receive."""

    PENDING = "pending"
    RUNNING = "running"
    SUCCESS = "success"
    FAILED = "failed"
    SKIPPED = "skipped"
    TIMEOUT = "timeout"

    def __str__(self) -> str:
        return self.value


FINAL_STATUSES = frozenset(
    {ToolStatus.SUCCESS, ToolStatus.FAILED, ToolStatus.SKIPPED, ToolStatus.TIMEOUT}
)

# Why a tool was SKIPPED, kept in ``metadata["skip_reason"]``.
SKIP_NOT_APPLICABLE = "not_applicable"  # nothing to check, tool not installed: satisfied
SKIP_DEPENDENCY = "dependency"  # a dependency failed, timed out or was itself blocked
SKIP_FAIL_FAST = "fail_fast"  # not started or cancelled after the first failure
SKIP_INTERRUPTED = "interrupted"  # not started or cancelled by Ctrl-C

# ``metadata["outcome"]``: what a FAILED tool's failure was. "findings" means the tool
# ran to completion and reported problems (a formatter that would reformat, a linter with
# violations); "error" means it could not do its work (crash, usage error, bad config).
OUTCOME_FINDINGS = "findings"
OUTCOME_ERROR = "error"


@dataclass(frozen=True)
class Diagnostic:
    """One problem a tool reported, at a place in a file."""

    file: str
    line: int | None
    column: int | None
    code: str | None
    severity: Severity
    message: str

    def to_dict(self) -> dict[str, Any]:
        # By hand: dataclasses.asdict deep-copies, ten times slower on a big report.
        return {
            "file": self.file,
            "line": self.line,
            "column": self.column,
            "code": self.code,
            "severity": self.severity,
            "message": self.message,
        }


@dataclass
class ToolResult:
    """What one tool run came to. The fields up to ``metadata`` are the seed's."""

    tool_name: str
    success: bool
    duration: float
    errors: int = 0
    warnings: int = 0
    output: str = ""
    status: ToolStatus = ToolStatus.SUCCESS
    error_message: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    diagnostics: list[Diagnostic] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not isinstance(self.status, ToolStatus):
            self.status = ToolStatus(self.status)
        # A result built as ToolResult(name, success=False, ...) keeps the default status;
        # make the two agree so that callers may test either.
        if self.status is ToolStatus.SUCCESS and not self.success:
            self.status = ToolStatus.FAILED

    @property
    def skip_reason(self) -> str | None:
        """Why the tool was skipped (one of the ``SKIP_*`` names), or None."""
        if self.status is not ToolStatus.SKIPPED:
            return None
        reason = self.metadata.get("skip_reason", SKIP_NOT_APPLICABLE)
        return str(reason)

    @property
    def outcome(self) -> str | None:
        """For a FAILED result: "findings" or "error" (see ``OUTCOME_*``)."""
        if self.status is not ToolStatus.FAILED:
            return None
        return str(self.metadata.get("outcome", OUTCOME_ERROR))

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict of every field."""
        data = {f.name: getattr(self, f.name) for f in fields(self)}
        data["status"] = self.status.value
        data["diagnostics"] = [d.to_dict() for d in self.diagnostics]
        data["metadata"] = _jsonable(self.metadata)
        return data


def _jsonable(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [_jsonable(v) for v in value]
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return repr(value)


_RESULT_FIELDS = frozenset(f.name for f in fields(ToolResult))


def coerce_result(tool_name: str, value: object, duration: float) -> ToolResult:
    """Turn what a tool returned into a ToolResult named ``tool_name``.

    The executor names and times every result itself: ``tool_name`` and ``duration``
    override whatever the tool put there (the tool's own duration is kept in
    ``metadata["reported_duration"]`` when it differs).
    """
    if value is None:  # the common case, kept short: the scheduler calls this per tool
        return ToolResult(tool_name, True, duration)
    if isinstance(value, ToolResult):
        # A copy: the tool's own result is left as it returned it.
        result = dataclasses.replace(
            value, metadata=dict(value.metadata), diagnostics=list(value.diagnostics)
        )
    elif isinstance(value, bool):
        result = ToolResult(tool_name, value, duration)
        if not value:
            result.error_message = "tool returned False"
    elif isinstance(value, int):
        result = ToolResult(tool_name, value == 0, duration, metadata={"exit_code": value})
        if value != 0:
            result.error_message = f"exit code {value}"
    elif isinstance(value, Mapping):
        unknown = sorted(str(k) for k in value if k not in _RESULT_FIELDS)
        if unknown:
            return ToolResult(
                tool_name,
                False,
                duration,
                status=ToolStatus.FAILED,
                error_message=f"tool returned a dict with unknown ToolResult fields: {unknown!r}",
                metadata={"outcome": OUTCOME_ERROR},
            )
        data = dict(value)
        data.setdefault("success", data.get("status", "success") in ("success", "skipped"))
        data.setdefault("duration", duration)
        data["tool_name"] = tool_name
        try:
            result = ToolResult(**data)
        except (TypeError, ValueError) as exc:
            return ToolResult(
                tool_name,
                False,
                duration,
                status=ToolStatus.FAILED,
                error_message=f"tool returned a dict that is not a ToolResult: {exc}",
                metadata={"outcome": OUTCOME_ERROR},
            )
    else:
        return ToolResult(
            tool_name,
            False,
            duration,
            status=ToolStatus.FAILED,
            error_message=(
                "tool returned an unsupported value "
                f"{value!r:.80}; expected ToolResult, bool, int, dict or None"
            ),
            metadata={"outcome": OUTCOME_ERROR},
        )
    if result.tool_name != tool_name:
        result.metadata.setdefault("reported_name", result.tool_name)
        result.tool_name = tool_name
    if result.duration != duration and result.duration:
        result.metadata.setdefault("reported_duration", result.duration)
    result.duration = duration
    if result.status in (ToolStatus.PENDING, ToolStatus.RUNNING):
        result.status = ToolStatus.SUCCESS if result.success else ToolStatus.FAILED
    if result.status is ToolStatus.SKIPPED:
        result.metadata.setdefault("skip_reason", SKIP_NOT_APPLICABLE)
        result.success = result.metadata["skip_reason"] == SKIP_NOT_APPLICABLE
    elif result.status is ToolStatus.SUCCESS:
        result.success = True
    else:
        result.success = False
    return result


@dataclass(frozen=True)
class ToolEvent:
    """A change of one tool's status, as the richer progress callback receives it.

    ``result`` is set for the final statuses (success, failed, skipped, timeout) and
    carries the counts and diagnostics; ``time`` is ``time.monotonic()`` at the change.
    """

    tool_name: str
    status: ToolStatus
    time: float
    result: ToolResult | None = None
