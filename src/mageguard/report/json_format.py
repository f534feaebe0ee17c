"""The report for machines: the Report model as JSON, the same content the HTML shows.

`kind` and `version` identify it (--previous reads them back); keys keep the model's field
order and lists their order in the model, so two runs over the same inputs at the same
--as-of time give the same bytes. Charts are not included: they are drawn from this data.
"""

from __future__ import annotations

import json
from dataclasses import asdict

from mageguard.report.model import Report


def to_json(report: Report) -> str:
    return json.dumps(asdict(report), indent=2, ensure_ascii=False) + "\n"
