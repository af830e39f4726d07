"""The apply step: send a plan's operations to Zoom in journaled, rate-limited chunks.

apply_operations(plan, client, journal, run_id) -> results (applied / failed / skipped)
mark_done_earlier(results, journal.applied_earlier(sha256)) -> results
"""

from batch.applying.outcomes import (
    apply_answers,
    done_earlier_message,
    mark_done_earlier,
    op_id_for,
)
from batch.applying.runner import ChunkProgress, apply_operations, partial_results

__all__ = [
    "ChunkProgress",
    "apply_answers",
    "apply_operations",
    "done_earlier_message",
    "mark_done_earlier",
    "op_id_for",
    "partial_results",
]
