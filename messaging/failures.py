"""Why messages failed: the stage, code and description of each failure, counted in SQL.
The campaign page (Retry failed) and the dashboards (reports) read failures through these."""

from dataclasses import dataclass

from django.db.models import Case, CharField, Count, F, IntegerField, Q, Value, When
from django.db.models.functions import Left

from iliveit import DELIVERED_OK, NETWORK_OK, PIPELINE_FAILURES, STAGES

# The stage a failure counts under, in pipeline order; then, for failed messages without a
# failing stage code, "submission" (refused before iLiveIt had it: no MessageID) and "unknown"
# (the failing report was superseded by a newer one of the same stage).
FAILURE_STAGES = (*STAGES, "submission", "unknown")
NO_CODE = frozenset({"submission", "unknown"})


@dataclass(frozen=True)
class FailureReason:
    stage: str
    code: int | None  # None under "submission" and "unknown"
    description: str
    n: int


def _failing(stage_field: str, fallback, output_field):
    """The first failing stage's column (postbacks.merge.is_failure, in SQL), or `fallback`."""
    pipeline = list(PIPELINE_FAILURES)
    return Case(
        When(build_code__in=pipeline, then=F(f"build_{stage_field}")),
        When(archive_code__in=pipeline, then=F(f"archive_{stage_field}")),
        When(submit_code__in=pipeline, then=F(f"submit_{stage_field}")),
        When(
            Q(sent_code__isnull=False) & ~Q(sent_code__in=NETWORK_OK), then=F(f"sent_{stage_field}")
        ),
        When(
            Q(delivered_code__isnull=False) & ~Q(delivered_code__in=DELIVERED_OK),
            then=F(f"delivered_{stage_field}"),
        ),
        default=fallback,
        output_field=output_field,
    )


def _failing_stage():
    pipeline = list(PIPELINE_FAILURES)
    return Case(
        When(build_code__in=pipeline, then=Value("build")),
        When(archive_code__in=pipeline, then=Value("archive")),
        When(submit_code__in=pipeline, then=Value("submit")),
        When(Q(sent_code__isnull=False) & ~Q(sent_code__in=NETWORK_OK), then=Value("sent")),
        When(
            Q(delivered_code__isnull=False) & ~Q(delivered_code__in=DELIVERED_OK),
            then=Value("delivered"),
        ),
        When(iliveit_id__isnull=True, then=Value("submission")),
        default=Value("unknown"),
    )


def failure_rows(failed):
    return (
        failed.annotate(
            failed_stage=_failing_stage(),
            failed_code=_failing("code", Value(0), IntegerField()),
            failed_description=_failing(
                "description", Left("last_error", 255), CharField(max_length=255)
            ),
        )
        .values_list("failed_stage", "failed_code", "failed_description")
        .annotate(total=Count("id"))
        .order_by()
    )


def failure_reasons(failed) -> tuple[FailureReason, ...]:
    """Why these failed messages failed, most frequent first, counted from the messages (a
    GROUP BY over them: for a page's few failures, not for a whole campaign's dashboard)."""
    return reasons_from_rows(list(failure_rows(failed)))


def reasons_from_rows(failures: list[tuple[str, int, str, int]]) -> tuple[FailureReason, ...]:
    reasons = [
        FailureReason(
            stage=stage,
            code=None if stage in NO_CODE else code,
            description=description,
            n=n,
        )
        for stage, code, description, n in failures
        if n
    ]
    # Most frequent first; ties in pipeline order, so that the order is the same every time.
    reasons.sort(key=lambda r: (-r.n, FAILURE_STAGES.index(r.stage), r.code or 0, r.description))
    return tuple(reasons)
