"""Recovery: recompute the KPI counters from the tickets (decision 0018).

    python -m infra.rebuild_kpis            # against the running local stack (.local/stack.json)
    python -m infra.rebuild_kpis --dry-run  # count only

Reads the tickets table a page at a time (a Scan: this is recovery, never a request path),
decodes each ticket on its own (one unreadable ticket is reported and left out), and replaces
every counter item and applied snapshot of the KPI table. Pause the aggregator's event source
(on AWS: disable the `AggregateKpis` SQS event source mapping) while it runs, then resume it:
events queued meanwhile apply on top, each once, as their versions are newer.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Iterator
from typing import Any

PAGE = 200


def tickets(client: Any, table: str, problems: list[str]) -> Iterator[Any]:
    """Every readable ticket, read by pages."""
    from chalicelib.adapters.tickets_repo import decode
    from chalicelib.domain.tickets import Ticket

    # the table also holds items keyed `<kind>#…` (customer profiles, intake counters): tickets
    # are the items whose id has no `#`
    args: dict[str, Any] = {
        "TableName": table,
        "Limit": PAGE,
        "FilterExpression": "NOT contains(id, :hash)",
        "ExpressionAttributeValues": {":hash": {"S": "#"}},
    }
    while True:
        page = client.scan(**args)
        for raw in page.get("Items", []):
            item = decode(raw)
            if isinstance(item, Ticket):
                yield item
            else:
                problems.append(f"{item.ticket_id}: {item.reason}")
        if "LastEvaluatedKey" not in page:
            return
        args["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def run(dry_run: bool = False) -> dict[str, Any]:
    from chalicelib import config
    from chalicelib.adapters import aws
    from chalicelib.services import context, kpis

    deps = context.deps()
    problems: list[str] = []
    found = tickets(aws.dynamodb(), config.tickets_table(), problems)
    if dry_run:
        result: dict[str, Any] = {"tickets": sum(1 for _ in found)}
    else:
        result = kpis.rebuild(found, deps)
    result["unreadable"] = problems
    return result


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m infra.rebuild_kpis", description=__doc__)
    parser.add_argument("--dry-run", action="store_true", help="count the tickets only")
    args = parser.parse_args(argv)
    from infra.local import STACK_FILE, fake_credentials

    fake_credentials()
    if STACK_FILE.exists() and "KPIS_TABLE" not in os.environ:
        info = json.loads(STACK_FILE.read_text())
        os.environ.update(info["environment"])
        os.environ.setdefault("AWS_ENDPOINT_URL", info["awsEndpointUrl"])
        os.environ.setdefault("AWS_DEFAULT_REGION", info["region"])
    result = run(args.dry_run)
    json.dump(result, sys.stdout, indent=2, ensure_ascii=False)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
