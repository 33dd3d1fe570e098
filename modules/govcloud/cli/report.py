"""``govcloud report``: the posture of an environment as a self-contained HTML page and JSON."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Optional

import typer

from ..files import read_regular, write_output
from .common import BuildOption, EnvOption, RenderDirOption, console, fail, load, plural, prepare_output, renamed, render_dir_of
from .policy import PackOption, TodayOption, execute_check, parse_day, require_current_render
from .review import ReviewsOption, TrustOption, trust_dir

BASELINE_DEFAULT = Path("build/compliance.json")  # where `govcloud baseline verify --out` is shown writing it


def register(app: typer.Typer) -> None:
    app.command("report", cls=renamed(__out="--report-dir", __check="--check-report", __within_days="--expiring-within"))(report)


def _json_file(path: Path, what: str) -> Any:
    from ..canonical import JsonProblem, load_json

    try:
        return load_json(read_regular(path), f"{path}: the {what}")
    except OSError as exc:
        fail(f"{path}: cannot read the {what} ({exc.strerror})")
    except JsonProblem as problem:
        fail(str(problem))


def report(
    ctx: typer.Context,
    env: Optional[str] = EnvOption,
    out: Path = typer.Option(..., "--report-dir", metavar="DIR", help="Directory for index.html and posture.json."),
    check: Optional[Path] = typer.Option(None, "--check-report", metavar="FILE",
                                         help="`govcloud check -o json` results (default: run the check on the render)."),
    baseline: Optional[Path] = typer.Option(None, "--baseline", metavar="FILE",
                                            help=f"`govcloud baseline verify` JSON (default: {BASELINE_DEFAULT} when it is for ENV)."),
    drift: Optional[Path] = typer.Option(None, "--drift", metavar="FILE", help="`govcloud drift -o json` report to show (cluster drift)."),
    ledger: Optional[Path] = typer.Option(None, "--ledger", envvar="GOVCLOUD_LEDGER", metavar="DIR",
                                          help="The evidence ledger: its latest tree head, and the check reports it recorded (the trend)."),
    evidence_root: Optional[Path] = typer.Option(None, "--evidence-root", metavar="DIR",
                                                 help="Where the ledger's evidence paths are relative to (default: the working directory)."),
    reviews: Path = ReviewsOption,
    trust_store: Optional[Path] = TrustOption,
    today: Optional[str] = TodayOption,
    within_days: int = typer.Option(30, "--expiring-within", min=0, metavar="DAYS", help="Early warning: what expires within this many days."),
    pack: Path = PackOption,
    render_dir: Optional[Path] = RenderDirOption,
    build: Optional[Path] = BuildOption,
) -> None:
    """The posture page and JSON of an environment, for security teams and leaders.

    Tenants by region and zone, compliance per rule, tenant and host, what expires soon,
    capacity per cluster and the ledger's latest tree head: DIR/index.html and DIR/posture.json.
    Every input is read before the check runs, so bad input fails fast (exit 2)."""
    from ..check.run import file_digests, load_states, stack_names
    from ..diff.run import load_check
    from ..ledger import LedgerError
    from ..model.loader import display_path
    from ..posture import collect, page

    day = parse_day(today)
    prepare_output(out, "--report-dir", directory=True)
    environment = load(ctx, env)
    drift_data = None
    if drift is not None:
        drift_data = _json_file(drift, "drift report")
        if not isinstance(drift_data, dict) or drift_data.get("format") != "govcloud.drift/v1":
            fail(f"{drift}: not a `govcloud drift -o json` report (format govcloud.drift/v1 expected)")
        if drift_data.get("env") != environment.name:
            fail(f"{drift}: the drift report is for environment {drift_data.get('env')!r}, not {environment.name!r}")
    baseline_data, baseline_source = None, None
    candidate = baseline or (BASELINE_DEFAULT if BASELINE_DEFAULT.is_file() else None)
    if candidate is not None:
        data = _json_file(candidate, "baseline verification")
        if not isinstance(data, dict) or not isinstance(data.get("hosts"), dict) or not isinstance(data.get("controls"), dict):
            fail(f"{candidate}: not a `govcloud baseline verify` report (hosts and controls expected)")
        if data.get("env") == environment.name:
            baseline_data = data
            baseline_source = {"file": display_path(candidate), "generated_at": data.get("generated_at")}
        elif baseline is not None:
            fail(f"{candidate}: the baseline verification is for environment {data.get('env')!r}, not {environment.name!r}")
    head = None
    if ledger is not None:
        try:
            head = collect.ledger_head(ledger, environment)
        except LedgerError as error:
            fail(str(error), error.exit_code)
    if check is not None:
        results = load_check(check)
        assert results is not None
        if results.get("env") != environment.name:
            fail(f"{check}: the check results are for environment {results.get('env')!r}, not {environment.name!r}")
        check_source = {"file": display_path(check), "today": results.get("today"), "pack": (results.get("pack") or {}).get("version")}
    else:
        names = stack_names(environment)
        states_dir = render_dir_of(render_dir, build, environment.name)
        require_current_render(environment, states_dir, names)
        states = load_states(states_dir, environment, names)
        results = execute_check(environment, states, pack, day, states_dir, file_digests(states_dir, environment, names)).as_dict()
        check_source = {"file": f"run on {display_path(states_dir)}", "today": results["today"],
                        "pack": results["pack"]["version"]}
    trust = trust_dir(ctx, environment.name, trust_store)
    certificates = collect.certificate_rows(environment, reviews, trust, day, within_days)
    try:
        history = collect.trend(environment, ledger, results, day, evidence_root)
    except LedgerError as error:
        fail(str(error), error.exit_code)
    data = collect.collect(environment, results, today=day, within_days=within_days, baseline=baseline_data,
                           certificates=certificates, ledger=head, history=history, drift=drift_data,
                           sources={"check": check_source, "baseline": baseline_source, "reviews": display_path(reviews / environment.name),
                                    "drift": {"file": display_path(drift), "generated_at": drift_data.get("generated_at")}
                                    if drift is not None and drift_data is not None else None})
    write_output(out / "posture.json", json.dumps(data, ensure_ascii=False, indent=2, sort_keys=True) + "\n")
    write_output(out / "index.html", page.to_html(data))
    summary = data["summary"]
    console.print(f"wrote {out / 'index.html'} and posture.json: {plural(summary['tenants'], 'tenant')}, verdict {summary['verdict']}, "
                  f"{plural(summary['findings']['blocking'], 'blocking finding')}, {plural(sum(summary['warnings'].values()), 'early warning')}")
