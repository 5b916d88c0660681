"""Step Functions: start a ticket's lifecycle execution, named after the ticket id."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from . import aws


@dataclass(frozen=True)
class Started:
    execution_arn: str
    already_existed: bool


def execution_arn(state_machine_arn: str, name: str) -> str:
    return state_machine_arn.replace(":stateMachine:", ":execution:") + ":" + name


class Workflows:
    def __init__(self, state_machine_arn: str, client: Any = None) -> None:
        self.state_machine_arn = state_machine_arn
        self._client = client

    @property
    def client(self) -> Any:
        return self._client or aws.sfn()

    def start(self, ticket_id: str, execution_input: str, name: str | None = None) -> Started:
        """Start (or find) the ticket's execution; safe to repeat with the same input."""
        name = name or ticket_id
        try:
            r = self.client.start_execution(
                stateMachineArn=self.state_machine_arn, name=name, input=execution_input
            )
            return Started(r["executionArn"], False)
        except self.client.exceptions.ExecutionAlreadyExists:
            return Started(execution_arn(self.state_machine_arn, name), True)

    def complete(self, token: str, output: dict[str, Any]) -> bool:
        """Complete a callback. False when the token is stale (timed out, used or unknown):
        the workflow moved on or will ask again, and the ticket's outbox answers it then."""
        try:
            self.client.send_task_success(
                taskToken=token, output=json.dumps(output, sort_keys=True, separators=(",", ":"))
            )
        except (
            self.client.exceptions.TaskTimedOut,
            self.client.exceptions.InvalidToken,
            self.client.exceptions.TaskDoesNotExist,
        ):
            return False
        return True

    def describe(self, ticket_id: str) -> dict[str, Any] | None:
        return self.describe_arn(execution_arn(self.state_machine_arn, ticket_id))

    def describe_arn(self, arn: str) -> dict[str, Any] | None:
        try:
            r: dict[str, Any] = self.client.describe_execution(executionArn=arn)
            return r
        except self.client.exceptions.ExecutionDoesNotExist:
            return None

    def executions(
        self, status: str, limit: int, next_token: str | None = None
    ) -> tuple[list[dict[str, Any]], str | None]:
        """One page of the lifecycle's executions that ended with `status`, newest first."""
        kwargs: dict[str, Any] = {
            "stateMachineArn": self.state_machine_arn,
            "statusFilter": status,
            "maxResults": limit,
        }
        if next_token:
            kwargs["nextToken"] = next_token
        r = self.client.list_executions(**kwargs)
        return list(r.get("executions", [])), r.get("nextToken")

    def history(self, execution_arn_: str) -> list[dict[str, Any]]:
        events: list[dict[str, Any]] = []
        kwargs: dict[str, Any] = {"executionArn": execution_arn_, "maxResults": 1000}
        while True:
            r = self.client.get_execution_history(**kwargs)
            events.extend(r["events"])
            if not r.get("nextToken"):
                return events
            kwargs["nextToken"] = r["nextToken"]
