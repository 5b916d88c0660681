"""Structured JSON logs (Powertools Logger) with personal data (phone, ID-card and e-mail) masked
before a record is written."""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.logging.formatter import LambdaPowertoolsFormatter

from chalicelib.domain.masking import mask_pii


class MaskingFormatter(LambdaPowertoolsFormatter):
    """Masks personal data in the whole serialized record: message, extras and exceptions."""

    def serialize(self, log: Any) -> str:
        return mask_pii(json.dumps(log, default=str, ensure_ascii=False))


logger = Logger(service="complaint-tickets", logger_formatter=MaskingFormatter())
