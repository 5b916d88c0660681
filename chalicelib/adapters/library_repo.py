"""Issue 12 items 4-5 (cases): the case library and the per-agent counters, as items of the
tickets table under their own key prefixes, found through one sparse index (`library-index`:
only these items carry `libKey`), so nothing here ever scans.

- a case: id `case#<case id>`; libKey `case#<phenomenon>`, libSort `<created UTC>#<case id>`
  (newest first per phenomenon); the case itself in `case` (JSON, no personal data);
- a counter: id `agentday#<day>#<agent>`; libKey `agents#<YYYY-MM>`, libSort `<day>#<agent>`;
  one number attribute per counter (domain/ratings.py COUNTERS), raised with `ADD`.

Neither carries an attribute of the tickets table's other indexes: they never appear in a ticket
list, a report on tickets or the sweep; their ids (with `#`) are not plausible ticket ids.
Writes ride on the ticket's own transaction (`save_change(..., also=...)`) where there is one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from pynamodb.attributes import JSONAttribute, NumberAttribute, UnicodeAttribute
from pynamodb.exceptions import DoesNotExist
from pynamodb.models import Model
from pynamodb.transactions import TransactWrite

from chalicelib import config
from chalicelib.domain.library import Case
from chalicelib.domain.ratings import COUNTERS
from chalicelib.domain.values import storage_time

from .models import _Index
from .query import connection

CASE_PREFIX = "case#"
COUNTER_PREFIX = "agentday#"
MONTH_PREFIX = "agents#"
_HIGH = "\U0010ffff"

TxItem = Callable[[TransactWrite], None]


class LibraryIndex(_Index):  # type: ignore[no-untyped-call]
    """Sparse: only case and counter items carry `libKey`."""

    class Meta(_Index.Meta):
        index_name = "library-index"

    libKey = UnicodeAttribute(hash_key=True)
    libSort = UnicodeAttribute(range_key=True)


def _counter_attributes() -> Any:
    return type("CounterAttributes", (), {n: NumberAttribute(null=True) for n in COUNTERS})


class LibraryModel(_counter_attributes(), Model):  # type: ignore[misc]
    class Meta:
        table_name = config.tickets_table()

    id = UnicodeAttribute(hash_key=True)
    libKey = UnicodeAttribute()
    libSort = UnicodeAttribute()
    case = JSONAttribute(null=True)
    agent = UnicodeAttribute(null=True)
    day = UnicodeAttribute(null=True)

    library_index = LibraryIndex()


def case_sort(case: Case) -> str:
    return f"{storage_time(case.created_at)}#{case.id}"


def _case_model(case: Case) -> LibraryModel:
    return LibraryModel(
        f"{CASE_PREFIX}{case.id}",
        libKey=f"{CASE_PREFIX}{case.phenomenon}",
        libSort=case_sort(case),
        case=case.to_api(),
    )


def put_case_item(case: Case) -> TxItem:
    """A transaction item writing a new case (never over another)."""
    model = _case_model(case)

    def add(tx: TransactWrite) -> None:
        tx.save(model, condition=LibraryModel.id.does_not_exist())

    return add


def count_item(day: str, agent: str, adds: dict[str, int]) -> TxItem:
    """A transaction item raising an agent's counters of a day with ADD (created on first use)."""

    def add(tx: TransactWrite) -> None:
        actions = [
            LibraryModel.libKey.set(f"{MONTH_PREFIX}{day[:7]}"),
            LibraryModel.libSort.set(f"{day}#{agent}"),
            LibraryModel.agent.set(agent),
            LibraryModel.day.set(day),
            *(getattr(LibraryModel, name).add(n) for name, n in sorted(adds.items())),
        ]
        tx.update(LibraryModel(f"{COUNTER_PREFIX}{day}#{agent}"), actions=actions)

    return add


class LibraryRepository:
    def put_case(self, case: Case, also: tuple[TxItem, ...] = ()) -> None:
        """A case added on its own (POST /cases), with its audit item, in one transaction."""
        with TransactWrite(connection=connection()) as tx:
            put_case_item(case)(tx)
            for item in also:
                item(tx)

    def get_case(self, case_id: str) -> Case | None:
        try:
            item = LibraryModel.get(f"{CASE_PREFIX}{case_id}")
        except DoesNotExist:
            return None
        return Case.from_api(item.case) if isinstance(item.case, dict) else None

    def cases(self, phenomenon: str, before: str | None, page: int) -> Iterator[tuple[str, Case]]:
        """A phenomenon's cases, newest first, from just before the position `before` (a
        libSort), read `page` at a time as the caller iterates: (position, case)."""
        condition = LibraryModel.libSort < before if before else None
        results = LibraryModel.library_index.query(
            f"{CASE_PREFIX}{phenomenon}",
            range_key_condition=condition,
            scan_index_forward=False,
            page_size=page,
        )
        for item in results:
            if isinstance(item.case, dict):
                yield item.libSort, Case.from_api(item.case)

    def counters(
        self, month: str, first_day: str, last_day: str, agent: str | None
    ) -> list[dict[str, Any]]:
        """The counter rows of a month between two days (inclusive), of one agent or all."""
        results = LibraryModel.library_index.query(
            f"{MONTH_PREFIX}{month}",
            range_key_condition=LibraryModel.libSort.between(
                f"{first_day}#", f"{last_day}#{_HIGH}"
            ),
            filter_condition=(LibraryModel.agent == agent) if agent is not None else None,
        )
        return [
            {"agent": m.agent, "day": m.day, **{n: getattr(m, n) or 0 for n in COUNTERS}}
            for m in results
        ]
