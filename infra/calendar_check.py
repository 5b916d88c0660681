"""Which years lack official holiday data (issue 13).

    python -m infra.calendar_check                  this year and the next two
    python -m infra.calendar_check --from 2026 --to 2030
    python -m infra.calendar_check --overrides path/to/overrides.json

For each year it prints where its working days come from: `chinese_calendar` (the package's
official schedule), `arrangement` (chalicelib/catalog/calendar/<year>.json) or `ESTIMATE`
(weekdays minus the holidays package's China holidays, no make-up working days). Deadlines that
reach an estimated year say so (`/sla/preview` `calendar.official: false`, a ticket's
`deadlineCalendar`). Loading the arrangement files validates them: a bad file is an error here.
Exit status: 0 when every year has official data, 1 when some lack it, 2 on a bad file.
"""

from __future__ import annotations

import argparse
import sys
from datetime import datetime

from chalicelib.catalog import CALENDAR_DIRECTORY
from chalicelib.domain.calendar import (
    OFFICIAL_RANGE,
    SHANGHAI,
    BusinessCalendar,
    CalendarError,
    load_arrangements,
    load_overrides,
)


def where(calendar: BusinessCalendar, year: int) -> str:
    if year in calendar.arrangements:
        return f"arrangement ({calendar.arrangements[year].source})"
    if calendar.official(year):
        return "chinese_calendar"
    return "ESTIMATE: no official data (weekends and the holidays package's holidays only)"


def main(argv: list[str] | None = None) -> int:
    this_year = datetime.now(SHANGHAI).year
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--from", dest="first", type=int, default=this_year)
    parser.add_argument("--to", dest="last", type=int, default=this_year + 2)
    parser.add_argument("--dir", default=str(CALENDAR_DIRECTORY), help="arrangements folder")
    parser.add_argument("--overrides", default=None, help="a CALENDAR_OVERRIDES file to check")
    args = parser.parse_args(argv)
    try:
        overrides = load_overrides(args.overrides) if args.overrides else None
        calendar = BusinessCalendar(overrides, load_arrangements(args.dir))
    except CalendarError as exc:
        print(f"bad calendar data: {exc}", file=sys.stderr)
        return 2
    span = f"{OFFICIAL_RANGE[0]}-{OFFICIAL_RANGE[1]}" if OFFICIAL_RANGE else "none"
    print(f"chinese_calendar covers {span}; arrangement files: {sorted(calendar.arrangements)}")
    for year in range(args.first, args.last + 1):
        print(f"{year}: {where(calendar, year)}")
    missing = calendar.unofficial_years(args.first, args.last)
    if missing:
        print(
            f"years without official data: {', '.join(map(str, missing))} — add "
            f"{args.dir}/<year>.json from the State Council's notice (see its README.md)"
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
