"""The notification settings, with their defaults (see docs/notifications.md)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from bihuan.hazards.choices import Severity, SupervisionLevel

# Overdue by more than 5 working days: town supervision; by more than 15: city.
# A major hazard overdue at all: city supervision (it is already under city watch).
DEFAULT_ESCALATION_RULES: list[dict[str, Any]] = [
    {"level": "town", "overdue_working_days_over": 5},
    {"level": "city", "overdue_working_days_over": 15},
    {"level": "city", "overdue_working_days_over": 0, "severity": "major"},
]


@dataclass(frozen=True)
class EscalationRule:
    level: str
    overdue_working_days_over: int
    severity: str | None = None
    # The listed supervision's own deadline, in working days from the escalation.
    deadline_working_days: int = 5

    def matches(self, severity: str, overdue_working_days: int) -> bool:
        if self.severity is not None and severity != self.severity:
            return False
        return overdue_working_days > self.overdue_working_days_over


def escalation_rules() -> list[EscalationRule]:
    raw = getattr(settings, "BIHUAN_ESCALATION_RULES", DEFAULT_ESCALATION_RULES)
    rules = []
    for item in raw:
        try:
            rule = EscalationRule(
                level=str(item["level"]),
                overdue_working_days_over=int(item["overdue_working_days_over"]),
                severity=item.get("severity"),
                deadline_working_days=int(item.get("deadline_working_days", 5)),
            )
        except (KeyError, TypeError, ValueError) as error:
            raise ImproperlyConfigured(f"BIHUAN_ESCALATION_RULES: bad rule {item!r}") from error
        if rule.level not in (SupervisionLevel.TOWN, SupervisionLevel.CITY):
            raise ImproperlyConfigured(f"BIHUAN_ESCALATION_RULES: level must be town or city: "
                                       f"{item!r}")
        if rule.severity is not None and rule.severity not in Severity.values:
            raise ImproperlyConfigured(f"BIHUAN_ESCALATION_RULES: unknown severity: {item!r}")
        rules.append(rule)
    return rules


def setting(name: str, default: Any) -> Any:
    return getattr(settings, name, default)


def allowed_hosts() -> list[str]:
    return [h.lower() for h in setting("BIHUAN_OUTBOUND_ALLOWED_HOSTS", [])]


def timeout_seconds() -> float:
    return float(setting("BIHUAN_OUTBOUND_TIMEOUT_SECONDS", 10))


def max_attempts() -> int:
    return int(setting("BIHUAN_DELIVERY_MAX_ATTEMPTS", 8))


def backoff_seconds() -> float:
    return float(setting("BIHUAN_DELIVERY_BACKOFF_SECONDS", 30))


def backoff_max_seconds() -> float:
    return float(setting("BIHUAN_DELIVERY_BACKOFF_MAX_SECONDS", 3600))


def sweep_interval_seconds() -> int:
    return max(1, int(setting("BIHUAN_SWEEP_INTERVAL_SECONDS", 60)))


def delivery_poll_seconds() -> float:
    return float(setting("BIHUAN_DELIVERY_POLL_SECONDS", 5))


def notice_hour() -> int:
    return int(setting("BIHUAN_NOTICE_HOUR", 8))


def reminder_working_days() -> list[int]:
    return sorted({int(n) for n in setting("BIHUAN_REMINDER_WORKING_DAYS", [3, 1]) if int(n) > 0})


def escalation_username() -> str:
    return str(setting("BIHUAN_ESCALATION_USERNAME", "bihuan-escalation"))
