"""Issue 12 (KPIs): content negotiation for reports (`Accept`: JSON or CSV)."""

from __future__ import annotations


def _ranges(accept: str) -> list[tuple[str, float]]:
    out: list[tuple[str, float]] = []
    for part in accept.split(",")[:32]:  # a hostile header cannot make this loop long
        fields = [f.strip() for f in part.split(";")]
        media = fields[0].lower()
        if not media:
            continue
        q = 1.0
        for param in fields[1:]:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    q = min(1.0, max(0.0, float(value)))
                except ValueError:
                    q = 0.0
        out.append((media, q))
    return out


def choose(accept: str | None, offered: tuple[str, ...]) -> str | None:
    """The offered type the client prefers (RFC 9110 §12.5.1): the highest q, the most specific
    range deciding, ties to the earlier offer; the first offer when `Accept` is absent; None
    when the client accepts none of them (406)."""
    if not accept or not accept.strip():
        return offered[0]
    ranges = _ranges(accept)
    best: tuple[float, int, str] | None = None
    for n, media in enumerate(offered):
        kind = media.split("/")[0]
        q = None
        specificity = -1
        for pattern, weight in ranges:
            if pattern == media:
                level = 2
            elif pattern == f"{kind}/*":
                level = 1
            elif pattern == "*/*":
                level = 0
            else:
                continue
            if level > specificity:
                specificity, q = level, weight
        if q is None or q <= 0:
            continue
        if best is None or q > best[0] or (q == best[0] and n < best[1]):
            best = (q, n, media)
    return best[2] if best else None
