"""Import jobs: one uploaded ledger, its column mapping, its problems and duplicates."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from bihuan.imports.choices import DuplicateDecision, ImportKind, ImportStatus


def upload_path(job: ImportJob, filename: str) -> str:
    suffix = filename.rsplit(".", 1)[-1].lower() if "." in filename else "bin"
    return f"imports/{job.created_by_id}/{job.token}.{suffix}"


class ImportJobQuerySet(models.QuerySet["ImportJob"]):
    def visible_to(self, user: Any) -> ImportJobQuerySet:
        """A job is its uploader's: it holds their file and their decisions."""
        if not getattr(user, "is_authenticated", False):
            return self.none()
        return self.filter(created_by=user)


class ImportJob(models.Model):
    token = models.CharField(max_length=32, unique=True, editable=False)
    kind = models.CharField(_("kind"), max_length=10, choices=ImportKind.choices)
    status = models.CharField(_("status"), max_length=10, choices=ImportStatus.choices,
                              default=ImportStatus.UPLOADED)
    file = models.FileField(_("file"), upload_to=upload_path, max_length=200)
    filename = models.CharField(_("file name"), max_length=200)
    file_format = models.CharField(_("format"), max_length=4)
    # Where rows without town/village/grid columns go, and the bound no row may leave.
    area = models.ForeignKey("areas.Area", on_delete=models.PROTECT, related_name="+",
                             verbose_name=_("area"))
    # The kind of place of rows that do not say (a ledger of rental houses has no 类型 column).
    place_kind = models.CharField(_("kind of place"), max_length=30, blank=True)
    header = models.JSONField(_("header"), default=dict, blank=True)
    total_rows = models.PositiveIntegerField(_("rows"), default=0)
    processed_rows = models.PositiveIntegerField(_("rows processed"), default=0)
    error_rows = models.PositiveIntegerField(_("rows with problems"), default=0)
    duplicate_rows = models.PositiveIntegerField(_("possible duplicates"), default=0)
    created_count = models.PositiveIntegerField(_("created"), default=0)
    merged_count = models.PositiveIntegerField(_("merged"), default=0)
    skipped_count = models.PositiveIntegerField(_("skipped"), default=0)
    default_decision = models.CharField(_("duplicates"), max_length=10,
                                        choices=DuplicateDecision.choices,
                                        default=DuplicateDecision.SKIP)
    message = models.TextField(_("message"), blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                   related_name="+", verbose_name=_("uploaded by"))
    created_at = models.DateTimeField(_("uploaded at"))
    checked_at = models.DateTimeField(_("checked at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    # Who runs it now ("host:pid", core.taskrecovery.worker_id) and since when: a job
    # whose process died (kill -9, a crash) is found interrupted and can run again.
    claimed_by = models.CharField(_("run by"), max_length=60, blank=True, editable=False)
    claimed_at = models.DateTimeField(_("run since"), null=True, blank=True, editable=False)

    objects = ImportJobQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("import")
        verbose_name_plural = _("imports")

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.filename}"

    @property
    def running(self) -> bool:
        return self.status in (ImportStatus.CHECKING, ImportStatus.IMPORTING)

    @property
    def progress_percent(self) -> int:
        if not self.total_rows:
            return 0
        return min(100, round(100 * self.processed_rows / self.total_rows))


class RowProblem(models.Model):
    """One problem of one row, named by the row number the official sees in Excel."""

    job = models.ForeignKey(ImportJob, on_delete=models.CASCADE, related_name="problems")
    row = models.PositiveIntegerField(_("row"))
    column = models.CharField(_("column"), max_length=40, blank=True)
    message = models.CharField(_("problem"), max_length=300)

    class Meta:
        ordering = ["row", "id"]
        indexes = [models.Index(fields=["job", "row"], name="import_problem_row")]

    def __str__(self) -> str:
        return f"{self.row}: {self.message}"


class Duplicate(models.Model):
    """A row that looks like an existing place or like an earlier row of the file."""

    job = models.ForeignKey(ImportJob, on_delete=models.CASCADE, related_name="duplicates")
    row = models.PositiveIntegerField(_("row"))
    name = models.CharField(_("name"), max_length=200)
    address = models.CharField(_("address"), max_length=255)
    place = models.ForeignKey("places.Place", on_delete=models.CASCADE, null=True, blank=True,
                              related_name="+", verbose_name=_("existing place"))
    same_as_row = models.PositiveIntegerField(_("same as row"), null=True, blank=True)
    similarity = models.FloatField(_("similarity"))
    decision = models.CharField(_("decision"), max_length=10,
                                choices=DuplicateDecision.choices, blank=True)

    class Meta:
        ordering = ["row", "id"]
        constraints = [models.UniqueConstraint(fields=["job", "row"], name="import_dup_row")]

    def __str__(self) -> str:
        return f"{self.row}: {self.name}"
