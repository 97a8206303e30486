"""The import pages: upload, correct the column mapping, check, decide duplicates, import.

Only officials import, and a job is its uploader's alone (another user gets a
404). Small files are checked and imported within the request; big ones run
as background tasks while the job page refreshes itself to show progress.
"""

from __future__ import annotations

import tempfile
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from bihuan.accounts.choices import OFFICIAL_ROLES
from bihuan.accounts.scopes import scope_of
from bihuan.core.errors import DomainError, NotFound
from bihuan.core.exports import XLSX_TYPE
from bihuan.core.forms import add_domain_error
from bihuan.imports import services
from bihuan.imports.choices import DuplicateDecision, ImportStatus
from bihuan.imports.forms import MappingForm, UploadForm
from bihuan.imports.headers import Header, field_label
from bihuan.imports.models import ImportJob

# Files larger than this are checked and imported by the worker, not in the request.
INLINE_BYTES = 2 * 1024 * 1024
PROBLEMS_SHOWN = 200
DUPLICATES_SHOWN = 200


def _require_official(request: HttpRequest) -> None:
    if not scope_of(request.user).roles() & set(OFFICIAL_ROLES):
        raise Http404


def _job(request: HttpRequest, pk: int) -> ImportJob:
    _require_official(request)
    job = ImportJob.objects.visible_to(request.user).select_related("area").filter(pk=pk).first()
    if job is None:
        raise Http404
    return job


@login_required
@require_http_methods(["GET", "POST"])
def job_list(request: HttpRequest) -> HttpResponse:
    _require_official(request)
    form = UploadForm(request.POST or None, request.FILES or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            job = services.start_import(
                actor=request.user, kind=form.cleaned_data["kind"], file=upload,
                filename=upload.name, area=form.cleaned_data["area"],
                place_kind=form.cleaned_data["place_kind"],
                default_decision=form.cleaned_data["default_decision"])
        except DomainError as error:
            add_domain_error(form, error)
        else:
            return redirect("imports:detail", pk=job.pk)
    jobs = ImportJob.objects.visible_to(request.user).select_related("area")[:50]
    return render(request, "imports/list.html", {"form": form, "jobs": jobs})


@login_required
@require_GET
def job_detail(request: HttpRequest, pk: int) -> HttpResponse:
    job = services.recover_interrupted(_job(request, pk))
    header = Header.from_json(job.header)
    editable = job.status in (ImportStatus.UPLOADED, ImportStatus.CHECKED, ImportStatus.FAILED)
    problems = list(job.problems.all()[:PROBLEMS_SHOWN])
    duplicates = list(job.duplicates.select_related("place")[:DUPLICATES_SHOWN])
    return render(request, "imports/detail.html", {
        "job": job,
        "header": header,
        "mapped": [(header.labels[i] if i < len(header.labels) else "", field_label(name))
                   for i, name in sorted(header.mapping.items())],
        "mapping_form": MappingForm(header=header, kind=job.kind) if editable else None,
        "problems": problems,
        "more_problems": job.error_rows > 0 and len(problems) >= PROBLEMS_SHOWN,
        "duplicates": duplicates,
        "decisions": DuplicateDecision.choices,
        "can_commit": job.status == ImportStatus.CHECKED and not job.error_rows,
    })


def _fail(request: HttpRequest, error: DomainError) -> None:
    messages.error(request, str(error.message))


@login_required
@require_POST
def job_mapping(request: HttpRequest, pk: int) -> HttpResponse:
    job = _job(request, pk)
    form = MappingForm(request.POST, header=Header.from_json(job.header), kind=job.kind)
    if form.is_valid():
        try:
            services.set_mapping(job, actor=request.user, mapping=form.mapping())
        except DomainError as error:
            _fail(request, error)
    return redirect("imports:detail", pk=job.pk)


def _big(job: ImportJob) -> bool:
    try:
        return bool(job.file.size > INLINE_BYTES)
    except OSError:
        return False


@login_required
@require_POST
def job_check(request: HttpRequest, pk: int) -> HttpResponse:
    job = _job(request, pk)
    try:
        if _big(job):
            from bihuan.imports.tasks import check_import_task

            ImportJob.objects.filter(pk=job.pk).update(status=ImportStatus.CHECKING,
                                                       processed_rows=0)
            check_import_task.enqueue(job.pk, job.created_by_id)
        else:
            services.check_import(job, actor=request.user)
    except DomainError as error:
        _fail(request, error)
    return redirect("imports:detail", pk=job.pk)


@login_required
@require_POST
def job_decide(request: HttpRequest, pk: int) -> HttpResponse:
    job = _job(request, pk)
    try:
        row = int(request.POST.get("row", ""))
        services.decide_duplicate(job, actor=request.user, row=row,
                                  decision=request.POST.get("decision", ""))
    except ValueError:
        raise Http404 from None
    except NotFound:
        raise Http404 from None
    except DomainError as error:
        _fail(request, error)
    return redirect(f"{request.path.rsplit('/decide/', 1)[0]}/#duplicates")


@login_required
@require_POST
def job_commit(request: HttpRequest, pk: int) -> HttpResponse:
    job = _job(request, pk)
    try:
        if _big(job):
            from bihuan.imports.tasks import commit_import_task

            if job.status != ImportStatus.CHECKED or job.error_rows:
                services.commit_import(job, actor=request.user)  # raises the reason
            commit_import_task.enqueue(job.pk, job.created_by_id)
        else:
            job = services.commit_import(job, actor=request.user)
            messages.success(request, _("Imported: %(created)d created, %(merged)d merged, "
                                        "%(skipped)d skipped.") % {
                "created": job.created_count, "merged": job.merged_count,
                "skipped": job.skipped_count})
    except DomainError as error:
        _fail(request, error)
    return redirect("imports:detail", pk=job.pk)


@login_required
@require_GET
def job_errors(request: HttpRequest, pk: int) -> FileResponse:
    job = _job(request, pk)
    if job.status not in (ImportStatus.CHECKED, ImportStatus.DONE) or not job.file:
        raise Http404
    out: Any = tempfile.TemporaryFile()  # noqa: SIM115  (closed by the response)
    fmt = services.write_error_report(job, out)
    out.seek(0)
    stem = job.filename.rsplit(".", 1)[0]
    return FileResponse(out, as_attachment=True, filename=f"{stem}-{_('errors')}.{fmt}",
                        content_type=XLSX_TYPE if fmt == "xlsx" else "text/csv; charset=utf-8")
