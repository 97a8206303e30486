"""A logging filter that masks personal data (PIPL): ID numbers and phone numbers.

Applied to every handler in settings.LOGGING, so a request path, an exception text or a
query parameter that carries a resident ID number or a mobile number is logged masked.
"""

from __future__ import annotations

import logging
import re

# 18-character resident ID numbers (last may be X), 15-digit old ones, and mainland
# mobile numbers (1[3-9] + 9 digits), not inside longer digit runs.
ID_NUMBER = re.compile(r"(?<![0-9A-Za-z])(\d{6})\d{8}(\d{3}[0-9Xx])(?![0-9A-Za-z])|"
                       r"(?<!\d)(\d{6})\d{6}(\d{3})(?!\d)")
MOBILE = re.compile(r"(?<!\d)(1[3-9]\d)\d{4}(\d{4})(?!\d)")


def mask(text: str) -> str:
    def id_sub(match: re.Match[str]) -> str:
        if match.group(1):
            return f"{match.group(1)}********{match.group(2)}"
        return f"{match.group(3)}******{match.group(4)}"

    text = ID_NUMBER.sub(id_sub, text)
    return MOBILE.sub(lambda m: f"{m.group(1)}****{m.group(2)}", text)


class MaskPersonalData(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:
            return True
        masked = mask(message)
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = mask(record.exc_text)
        if masked != message:
            record.msg = masked
            record.args = None
        return True
