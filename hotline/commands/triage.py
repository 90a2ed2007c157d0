"""CLI adapters for triage: `enterprises import`, `classifier train|labels|cv|eval|bench`, `hotline triage`."""

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from hotline.settings import Settings
from models.db import make_engine, make_sessionmaker, unit_of_work

if TYPE_CHECKING:
    from triage.classifier.dispatcher_labels import DispatcherLabel

enterprises_app = typer.Typer(help="The enterprise register (企业名录).", no_args_is_help=True)
classifier_app = typer.Typer(
    help="The tip classifier: train, cross-validate, evaluate, benchmark.", no_args_is_help=True
)
console = Console(stderr=True)


@enterprises_app.command("import")
def enterprises_import(file: Annotated[Path, typer.Argument(exists=True, dir_okay=False)]) -> None:
    """Import or update enterprises from a CSV or XLSX file in the columns of enterprises.csv."""
    from triage.errors import HotlineError
    from triage.register import import_enterprises

    settings = Settings()
    sessions = make_sessionmaker(make_engine(settings.database_url))
    with Progress(
        TextColumn("导入企业"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=console
    ) as progress:
        task = progress.add_task("import", total=None)

        def on_progress(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total)

        try:
            with unit_of_work(sessions) as session:
                report = import_enterprises(session, file, on_progress)
        except HotlineError as exc:
            console.print(f"[red]{exc.message}[/red]")
            raise typer.Exit(2) from exc
    console.print(
        f"rows {report.rows}: inserted {report.inserted}, updated {report.updated}, "
        f"unchanged {report.unchanged}, rejected {len(report.errors)}"
    )
    if report.inserted or report.updated:
        from triage.analysis.shared_engine import register_index

        # Indexed once here and cached, so the processes that follow the register load the index.
        with sessions() as session:
            register_index(session, settings.data_dir)
    for error in report.errors[:50]:
        console.print(f"  line {error.line} {error.uscc}: {error.message}")
    if len(report.errors) > 50:
        console.print(f"  … and {len(report.errors) - 50} more")
    if report.errors:
        raise typer.Exit(1)


@contextmanager
def _writing(path: Path) -> Iterator[None]:
    """A file that cannot be written is one clear line and exit status 2, not a traceback."""
    try:
        yield
    except OSError as exc:
        console.print(f"[red]cannot write {path}: {exc.strerror}[/red]")
        raise typer.Exit(2) from exc


def _dispatcher_labels(settings: Settings) -> "list[DispatcherLabel] | None":
    """The latest dispatcher label of every dispatched tip (训练数据), or None with no database to read."""
    from triage.classifier.dispatcher_labels import latest_labels

    sessions = make_sessionmaker(make_engine(settings.database_url))
    try:
        with sessions() as session:
            return latest_labels(session)
    except Exception as exc:  # noqa: BLE001 - no database yet is fine: train from files only
        console.print(f"[yellow]no dispatcher labels read ({type(exc).__name__})[/yellow]")
        return None


@classifier_app.command("train")
def classifier_train(
    files: Annotated[
        list[Path], typer.Argument(exists=True, dir_okay=False, help="labelled tips (JSON Lines)")
    ],
    output: Annotated[Path | None, typer.Option(help="model file; default DATA_DIR/classifier.npz")] = None,
    with_corrections: Annotated[bool, typer.Option(help="also learn from dispatchers' labels")] = True,
) -> None:
    """Train the classifier from labelled tips (and dispatchers' corrections in the database)."""
    from triage.classifier import default_model_path, train
    from triage.classifier.dispatcher_labels import as_training

    settings = Settings()
    extra = as_training(_dispatcher_labels(settings) or []) if with_corrections else []
    target = output or default_model_path(settings.data_dir)
    with _writing(target):
        train(files, extra, target)
    console.print(f"model written to {target} ({len(extra)} dispatcher labels)")


@classifier_app.command("labels")
def classifier_labels(
    output: Annotated[Path, typer.Argument(dir_okay=False, help="JSON Lines file to write")],
) -> None:
    """Export the dispatchers' labels as labelled tips (tips_dev format): real tips to measure the engine
    on (`classifier eval`), to validate with (`cv --by-file`) or to train from. The file holds tip texts:
    it is written readable by its owner only."""
    from triage.classifier.dispatcher_labels import write_jsonl

    labels = _dispatcher_labels(Settings())
    if labels is None:
        raise typer.Exit(2)
    with _writing(output):
        write_jsonl(labels, output)
    if not labels:
        console.print(f"no tip has been dispatched yet: {output} is empty")
        return
    # Only tips the engine had analysed say anything about its suggestions (the digest counts the same way).
    suggested = [lab for lab in labels if lab.suggested]
    corrected = sum(lab.corrected for lab in suggested)
    console.print(
        f"{len(labels)} labelled tips written to {output}; "
        f"the engine had suggested for {len(suggested)}, and {corrected} of those were corrected"
    )


@classifier_app.command("cv")
def classifier_cv(
    files: Annotated[
        list[Path], typer.Argument(exists=True, dir_okay=False, help="labelled tips (JSON Lines)")
    ],
    folds: Annotated[int, typer.Option(min=2, help="number of stratified folds")] = 5,
    repeats: Annotated[int, typer.Option(min=1, help="pool this many differently shuffled splits")] = 1,
    by_file: Annotated[
        bool,
        typer.Option(
            "--by-file", help="leave one file out: score every tip of each file with a model of the others"
        ),
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="print the report as JSON")] = False,
) -> None:
    """Stratified k-fold CV on the real tips of FILES (composed/written tips only ever in training folds),
    or with --by-file each file scored by a model of the others: category/subtype macro-F1, department
    accuracy, urgency F1, per-subtype F1 and the confused pairs."""
    from triage.classifier.cv import cross_validate, validate_by_file
    from triage.classifier.training import read_labelled
    from triage.errors import HotlineError

    try:
        sets = [(str(path), read_labelled(path)) for path in files]
        if by_file:
            report = validate_by_file(sets)
        else:
            report = cross_validate([tip for _, tips in sets for tip in tips], folds, repeats=repeats)
    except HotlineError as exc:
        console.print(f"[red]{exc.message}[/red]")
        raise typer.Exit(2) from exc
    if as_json:
        typer.echo(json.dumps(asdict(report), ensure_ascii=False, indent=1))
        return
    out = Console()
    table = Table(title=f"subtype F1, {report.scheme}, {report.tips} tips scored")
    table.add_column("subtype")
    table.add_column("F1")
    for label, f1 in report.per_subtype_f1.items():
        table.add_row(label, f"{f1:.3f}")
    out.print(table)
    if report.confused:
        pairs = Table(title="confused (gold -> predicted)")
        for column in ("gold", "predicted", "tips"):
            pairs.add_column(column)
        for gold, predicted, count in report.confused:
            pairs.add_row(gold, predicted, str(count))
        out.print(pairs)
    out.print(
        f"tips scored {report.tips} (+{report.training_only} training-only)  "
        f"category macro-F1 {report.category_macro_f1:.3f}  subtype macro-F1 {report.subtype_macro_f1:.3f}\n"
        f"department {report.department_accuracy:.3f}  urgency F1 {report.urgency_f1:.3f} "
        f"(missed {report.urgent_missed}, false {report.urgent_false})"
    )


def _engine_for_eval(settings: Settings, model: Path | None) -> Any:
    from triage.analysis import TriageEngine, resolve_model_path
    from triage.analysis.engine import load_model_file
    from triage.analysis.shared_engine import register_index

    sessions = make_sessionmaker(make_engine(settings.database_url))
    with sessions() as session:
        index = register_index(session, settings.data_dir)
    return TriageEngine.of_index(index, load_model_file(model or resolve_model_path(settings.data_dir)))


@classifier_app.command("eval")
def classifier_eval(
    file: Annotated[
        Path, typer.Argument(exists=True, dir_okay=False, help="labelled tips (tips_dev format)")
    ],
    model: Annotated[Path | None, typer.Option(help="model file; default the configured one")] = None,
    baseline_train: Annotated[
        Path | None,
        typer.Option(exists=True, dir_okay=False, help="train the plain baseline on these tips"),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print the report as JSON")] = False,
) -> None:
    """Per-class precision/recall/F1, confusion matrix, department/county/enterprise/urgency accuracy,
    and the plain TF-IDF + LinearSVC baseline trained on tips_train.jsonl, scored on the same file."""
    from triage.classifier.baseline import score_baseline
    from triage.classifier.evaluation import check_targets, evaluate, read_gold
    from triage.classifier.training import REAL_TRAINING, read_labelled

    rows = read_gold(file)
    report = evaluate(_engine_for_eval(Settings(), model), rows)
    plain = score_baseline(read_labelled(baseline_train or REAL_TRAINING), rows)
    checks = check_targets(report)
    if as_json:
        targets = {
            check.target.measure: {"goal": check.target.goal, "value": check.value, "met": check.met}
            for check in checks
        }
        typer.echo(
            json.dumps(
                {**asdict(report), "baseline": asdict(plain), "targets": targets},
                ensure_ascii=False,
                indent=1,
            )
        )
        return
    out = Console()
    for title, classes in (("category", report.category_classes), ("subtype", report.subtype_classes)):
        table = Table(title=f"{title} (model {report.model})")
        for column in ("label", "precision", "recall", "F1", "support"):
            table.add_column(column)
        for c in classes:
            table.add_row(c.label, f"{c.precision:.3f}", f"{c.recall:.3f}", f"{c.f1:.3f}", str(c.support))
        out.print(table)
    confusion = Table(title="category confusion (rows gold, columns predicted)")
    confusion.add_column("")
    for label in report.category_labels:
        confusion.add_column(label)
    for label, counts in zip(report.category_labels, report.category_confusion, strict=True):
        confusion.add_row(label, *map(str, counts))
    out.print(confusion)
    side = Table(title=f"engine vs plain baseline (TF-IDF char 1-3 + LinearSVC, {plain.trained_on} tips)")
    for column in ("measure", "engine", "baseline"):
        side.add_column(column)
    for name, ours, theirs in (
        ("category macro-F1", report.category_macro_f1, plain.category_macro_f1),
        ("subtype macro-F1", report.subtype_macro_f1, plain.subtype_macro_f1),
        ("lead department accuracy", report.department_accuracy, plain.department_accuracy),
        ("urgency F1", report.urgency_f1, plain.urgency_f1),
    ):
        side.add_row(name, f"{ours:.3f}", f"{theirs:.3f}")
    side.add_row("county accuracy", f"{report.county_accuracy:.3f}", "-")
    side.add_row("enterprise (USCC) right", f"{report.enterprise_right:.3f}", "-")
    out.print(side)
    goals = Table(title="targets (held-out tips)")
    for column in ("measure", "engine", "target", "met"):
        goals.add_column(column)
    for check in checks:
        bound = "≤" if check.target.at_most else "≥"
        goal = f"{bound} {check.target.goal:.2f}"
        goals.add_row(check.target.name, f"{check.value:.3f}", goal, "yes" if check.met else "NO")
    out.print(goals)
    out.print(
        f"tips {report.tips}  category macro-F1 {report.category_macro_f1:.3f}  "
        f"subtype macro-F1 {report.subtype_macro_f1:.3f}  urgency F1 {report.urgency_f1:.3f}\n"
        f"department {report.department_accuracy:.3f}  county {report.county_accuracy:.3f}  "
        f"enterprise right {report.enterprise_right:.3f} of {report.enterprise_named}  "
        f"wrongly matched {report.enterprise_wrongly_matched:.3f} of {report.enterprise_unnamed}"
    )


@classifier_app.command("bench")
def classifier_bench(
    train: Annotated[Path, typer.Option("--train", exists=True, dir_okay=False)],
    test: Annotated[Path, typer.Option("--test", exists=True, dir_okay=False)],
) -> None:
    """Taxonomy-free: train on {"text","label"} lines, report macro-F1 and per-class F1 on the test file,
    for the engine's learner and for the plain TF-IDF + LinearSVC baseline."""
    from triage.classifier import bench

    report = bench(train, test)
    typer.echo(json.dumps(asdict(report), ensure_ascii=False, indent=1))


def _triage_line(engine: Any, line: str) -> dict[str, Any]:
    try:
        row = json.loads(line)
        if not isinstance(row, dict):
            raise ValueError("not a JSON object")
    except ValueError as exc:
        return {"id": None, "error": f"invalid JSON: {exc}"}
    tip_id = row.get("id")
    text = row.get("text")
    if not isinstance(text, str) or not text.strip():
        return {"id": tip_id, "error": "missing or empty text"}
    try:
        result = engine.analyse(text)
    except Exception as exc:  # noqa: BLE001 - one bad tip must not stop the batch
        return {"id": tip_id, "error": f"{type(exc).__name__}: {exc}"}
    return {
        "id": tip_id,
        "category": result.category,
        "subtype": result.subtype,
        "department": result.lead_department,
        "county": result.county_code,
        "enterprise_uscc": result.enterprise.uscc if result.enterprise else None,
        "urgent": result.urgent,
        "confidence": round(result.confidence, 4),
        "evidence": [e.to_dict() for e in result.evidence],
    }


def triage_command() -> None:
    """Read tips as JSON Lines on stdin ({"id", "text"}), write one analysis line per tip on stdout."""
    settings = Settings()
    engine = _engine_for_eval(settings, None)
    out = sys.stdout
    for line in sys.stdin:
        if not line.strip():
            continue
        out.write(json.dumps(_triage_line(engine, line), ensure_ascii=False) + "\n")
    out.flush()
