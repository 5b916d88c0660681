"""Loads the mass-complaint thresholds (mass_complaint.json), validated at load: a bad entry
raises naming the file and the field."""

from __future__ import annotations

import functools
import json
from pathlib import Path

from chalicelib.domain.incidents import MassComplaintPolicy

DEFAULT_FILE = Path(__file__).resolve().parent / "mass_complaint.json"


def load_mass_complaint_policy(path: str | Path | None = None) -> MassComplaintPolicy:
    file = Path(path) if path is not None else DEFAULT_FILE
    data = json.loads(file.read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise ValueError(f"{file.name}: must be an object")
    return MassComplaintPolicy.from_json(data, file.name)


@functools.cache
def default_mass_complaint_policy() -> MassComplaintPolicy:
    return load_mass_complaint_policy()
