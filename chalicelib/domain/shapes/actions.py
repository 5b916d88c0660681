"""The bodies of the lifecycle's actions (`POST /tickets/{id}/<action>`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import ConfigDict, Field, model_validator

from ..duties import CRITERIA
from ..lifecycle import APPEAL_LEVELS, APPEAL_SOURCES, REQUEST_TYPES
from .base import (
    Criterion,
    DepartmentCode,
    Duty,
    Fields,
    Flags,
    ReplyMethod,
    Satisfaction,
    Shape,
    SlaLevel,
    _Classified,
    _FieldFailure,
    _text,
)

# -- lifecycle actions -----------------------------------------------------------------------


class ReviewBody(_Classified):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"valid": True, "opinion": "信息完整", "phenomenon": "voice_coverage"}]
        }
    )

    valid: bool
    unreasonable: bool = False
    reason: _text(1000) | None = None
    opinion: _text(2000, "The reviewer's opinion, kept in the history.") | None = None
    fields: Fields | None = None

    @model_validator(mode="after")
    def _consistent(self) -> Any:
        if self.valid and self.unreasonable:
            raise _FieldFailure(
                "unreasonable", "an unreasonable ticket is not valid: send valid: false"
            )
        if (not self.valid or self.unreasonable) and not self.reason:
            raise _FieldFailure("reason", "is required when the ticket is invalid or unreasonable")
        return self


class DispatchBody(Shape):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"department": "network", "note": "弱覆盖，请核查", "slaLevel": "C"}]
        }
    )

    department: DepartmentCode
    note: _text(2000, "The dispatch note for the department.", "弱覆盖，请核查")
    sla_level: SlaLevel | None = None


class EmptyBody(Shape):
    """No fields (an empty object, or no body at all)."""

    model_config = ConfigDict(json_schema_extra={"examples": [{}]})


class ResolveBody(Shape):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"cause": "weak_coverage", "result": "已新增室分系统"}]}
    )

    cause: _text(
        500,
        "The cause found: one of the ticket's phenomenon's causes (`GET /catalog`).",
        "weak_coverage",
    )
    result: _text(4000, "What was done.", "已新增室分系统")
    # -- issue 13 (catalog): the script the desk replies with
    answer_script: (
        _text(2000, "What the desk tells the customer; default: the catalog's script for `cause`.")
        | None
    ) = None


class ReasonBody(Shape):
    model_config = ConfigDict(json_schema_extra={"examples": [{"reason": "不属于本部门处理范围"}]})

    reason: _text(1000, example="不属于本部门处理范围")


class TransferBody(Shape):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "department": "billing_support",
                    "reason": "需要计费支撑中心核查",
                    "timeLimitHours": 24,
                }
            ]
        }
    )

    department: DepartmentCode
    reason: _text(1000, example="需要计费支撑中心核查")
    time_limit_hours: Annotated[int, Field(ge=1, le=720)] | None = None


class ReplyBody(Shape):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"content": "已为您处理，信号已恢复", "method": "phone"}]}
    )

    content: _text(4000, "The answer given to the customer.", "已为您处理，信号已恢复")
    method: ReplyMethod


class RevisitBody(Shape):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"satisfaction": "satisfied", "comment": "满意"}]}
    )

    satisfaction: Satisfaction
    comment: _text(2000) | None = None


class ArchiveBody(Shape):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"analysis": "弱覆盖典型案例", "addToCaseLibrary": True}]}
    )

    analysis: _text(4000, "The closing analysis.", "弱覆盖典型案例")
    add_to_case_library: bool = False
    no_revisit_reason: _text(1000) | None = None


class NoteBody(Shape):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"text": "客户补充：晚上八点后信号最差", "fields": {"handsetModel": "Mate 60"}}
            ]
        }
    )

    text: _text(4000, "Supplementary information.", "客户补充：晚上八点后信号最差")
    fields: Fields | None = None
    duty: Duty | None = None
    flags: Flags | None = None


class EscalateBody(Shape):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"reason": "媒体介入", "criteria": ["media"]}]}
    )

    reason: _text(1000, example="媒体介入")
    criteria: Annotated[list[Criterion], Field(min_length=1, max_length=len(CRITERIA))]


# -- issue 10 part B (flows): supplementary complaints, senior decisions, appeals ------------


class SupplementBody(Shape):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"text": "客户来电补充：周末也无信号"},
                {"text": "客户催促尽快处理", "request": "chase"},
            ]
        }
    )

    text: _text(4000, "The new information the customer gave.", "客户来电补充：周末也无信号")
    fields: Fields | None = None
    request: Literal[REQUEST_TYPES] | None = None  # type: ignore[valid-type]


RequestId = Annotated[
    str,
    Field(
        pattern=r"^R[0-9A-HJKMNP-TV-Z]{26}$",
        description="The id of a pending request (`pendingRequests`).",
        examples=["R01JD5ZQ3V8X9K2M4N6P7Q8R9ST"],
    ),
]


class DecideBody(Shape):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"requestId": "R01JD5ZQ3V8X9K2M4N6P7Q8R9ST", "approve": True}]
        }
    )

    request_id: RequestId
    approve: bool
    reason: _text(1000) | None = None


class AppealBody(Shape):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"description": "对处理结果不满，向消协申诉", "source": "consumer_association"}
            ]
        }
    )

    description: _text(4000, "What the appeal says.", "对处理结果不满，向消协申诉")
    source: Literal[APPEAL_SOURCES]  # type: ignore[valid-type]
    level: Literal[tuple(APPEAL_LEVELS)] = "ordinary"  # type: ignore[valid-type]


ACTION_BODIES: Mapping[str, type[Shape]] = {
    "review": ReviewBody,
    "dispatch": DispatchBody,
    "accept": EmptyBody,
    "resolve": ResolveBody,
    "return": ReasonBody,
    "transfer": TransferBody,
    "reply": ReplyBody,
    "revisit": RevisitBody,
    "archive": ArchiveBody,
    "cancel": ReasonBody,
    "note": NoteBody,
    "escalate": EscalateBody,
    # issue 10 part B (flows)
    "supplement": SupplementBody,
    "decide": DecideBody,
    "appeal": AppealBody,
}


# -- part C (issue 10): emergencies and overdue reasons -----------------------------------------


from ..duties import AT_FAULT_ONLY, PRE_AUTHORISED  # noqa: E402

MAX_EMERGENCY_AMOUNT = 100_000  # yuan: a pre-authorised action is never more than this
EmergencyActionType = Literal[PRE_AUTHORISED]
_OVERDUE = (
    "Why it was done late; required when it is (after the step's first deadline or the "
    "ticket's reply deadline)."
)


class JudgeEmergencyBody(Shape):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"confirm": True, "reason": "客户明早出国，须今晚开通"}]}
    )

    confirm: bool
    reason: _text(1000, "Why the emergency is confirmed or downgraded.", "客户明早出国")


class EmergencyActionBody(Shape):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "type": "cash_refund_of_charges",
                    "amount": 50,
                    "companyAtFault": True,
                    "note": "误扣国际漫游费，先行退还",
                }
            ]
        }
    )

    type: EmergencyActionType
    amount: (
        Annotated[
            float,
            Field(
                gt=0,
                le=MAX_EMERGENCY_AMOUNT,
                allow_inf_nan=False,
                description="The amount (yuan, or points for a points return), if any.",
            ),
        ]
        | None
    ) = None
    company_at_fault: bool
    note: _text(2000) | None = None

    @model_validator(mode="after")
    def _at_fault(self) -> Any:
        if self.type in AT_FAULT_ONLY and not self.company_at_fault:
            raise _FieldFailure(
                "companyAtFault",
                f"{self.type} is pre-authorised only where the company is at fault (属我司责任):"
                " send companyAtFault: true",
            )
        return self


class LateResolveBody(ResolveBody):
    overdue_reason: _text(1000, _OVERDUE) | None = None


class LateReturnBody(ReasonBody):
    overdue_reason: _text(1000, _OVERDUE) | None = None


class LateReplyBody(ReplyBody):
    overdue_reason: _text(1000, _OVERDUE) | None = None


ACTION_BODIES = {
    **ACTION_BODIES,
    "resolve": LateResolveBody,
    "return": LateReturnBody,
    "reply": LateReplyBody,
    "judge_emergency": JudgeEmergencyBody,
    "emergency_action": EmergencyActionBody,
}
