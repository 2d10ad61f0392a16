"""What is shown after a run and by `rnnbench report`: the recap, then every analysis the results allow."""

from __future__ import annotations

from rich.console import RenderableType

from rnnbench.claims.table import evaluate_claims
from rnnbench.render.analysis import data_table, horizon_table, matched_table
from rnnbench.render.anatomy import anatomy_claims_table, anatomy_table
from rnnbench.render.claims import claims_table
from rnnbench.render.recap import plugin_ratio_table, recap_table
from rnnbench.render.recap_shape import recap_shape_table
from rnnbench.render.serving import serving_table
from rnnbench.results.records import ResultsJson


def run_report(doc: ResultsJson, details: bool = False) -> list[RenderableType]:
    """Renderables in display order: the recap in the lecture's shape first; each analysis adds itself only
    when the results hold its cases; the claims' evidence table, every finding, only with `details`."""
    results = evaluate_claims(doc)
    parts: list[RenderableType] = [recap_shape_table(results), recap_table(doc)]
    parts += [t for t in (plugin_ratio_table(doc),) if t is not None]
    parts += [t for t in (matched_table(doc), horizon_table(doc), data_table(doc)) if t is not None]
    parts += [t for t in (serving_table(doc),) if t is not None]
    parts += [t for t in (anatomy_table(doc), anatomy_claims_table(doc)) if t is not None]
    if details:
        parts.append(claims_table(results))
    return parts
