from typing import Any

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from bihuan.core import workdays
from bihuan.core.models import CalendarDay


@receiver([post_save, post_delete], sender=CalendarDay)
def forget_calendar(**kwargs: Any) -> None:
    workdays.invalidate_cache()
