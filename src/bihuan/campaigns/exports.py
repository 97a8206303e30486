"""CSV exports of the three lists and the draws: the project's one export writer."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from django.http import StreamingHttpResponse

from bihuan.core.exports import csv_chunks


def csv_response(filename: str, header: Sequence[Any], rows: Iterable[Sequence[Any]]
                 ) -> StreamingHttpResponse:
    """Streamed, formula-safe CSV (``core.exports``), UTF-8 with a BOM for Excel."""
    response = StreamingHttpResponse(csv_chunks([str(h) for h in header], rows),
                                     content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
