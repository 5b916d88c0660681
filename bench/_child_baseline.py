"""Cold start baseline child: the least a create could do — boto3, one put_item, one start.

Run by bench/cold_start.py as `python bench/_child_baseline.py` against the same moto server,
with the item (DynamoDB JSON) in BENCH_ITEM and the state machine in BENCH_STATE_MACHINE_ARN.
Prints one JSON line of timings.
"""

from __future__ import annotations

import time

T0 = time.perf_counter()

import json  # noqa: E402
import os  # noqa: E402


def main() -> None:
    item = json.loads(os.environ["BENCH_ITEM"])
    ticket_id = item["id"]["S"]
    t_start = time.perf_counter()
    import boto3

    t_imported = time.perf_counter()
    boto3.client("dynamodb").put_item(TableName=os.environ["TICKETS_TABLE"], Item=item)
    boto3.client("stepfunctions").start_execution(
        stateMachineArn=os.environ["BENCH_STATE_MACHINE_ARN"],
        name=ticket_id,
        input=json.dumps({"ticketId": ticket_id}, sort_keys=True, separators=(",", ":")),
    )
    t_done = time.perf_counter()
    print(
        json.dumps(
            {
                "status": 201,
                "ticketId": ticket_id,
                "inside": t_done - T0,
                "import": t_imported - t_start,
                "request": t_done - t_imported,
            }
        ),
        flush=True,
    )


if __name__ == "__main__":
    main()
