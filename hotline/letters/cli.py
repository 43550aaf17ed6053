"""`hotline letterheads`: check that every letterhead loads and renders a good letter."""

from pathlib import Path

import click


@click.group()
def letterheads() -> None:
    """Municipalities' letterheads."""


@letterheads.command("check")
@click.option(
    "--dir",
    "letterheads_dir",
    type=click.Path(file_okay=False, exists=True, path_type=Path),
    help="The letterheads folder (default: HOTLINE_LETTERHEADS_DIR).",
)
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    help="Write each sample letter to DIR/<letterhead>.pdf to look at.",
)
def check_command(letterheads_dir: Path | None, out: Path | None) -> None:
    """Render a sample letter on every letterhead (and the default) and report problems."""
    from hotline.config import Settings
    from hotline.letters.check import check_letterheads
    from hotline.letters.harfbuzz import MISSING_MESSAGE, harfbuzz_subset_available

    if harfbuzz_subset_available():
        click.echo("libharfbuzz-subset: found (fast font subsetting)")
    else:
        click.echo(f"WARNING: {MISSING_MESSAGE}", err=True)
    directory = letterheads_dir or Settings().letterheads_dir
    reports = check_letterheads(directory)
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
    width = max((len(r.label) for r in reports), default=0)
    for report in reports:
        summary = []
        if report.pages is not None:
            summary.append(f"{report.pages} page{'s' if report.pages != 1 else ''}")
        if report.seconds is not None:
            summary.append(f"{report.seconds:.2f} s")
        if out is not None and report.pdf is not None:
            path = out / f"{report.label.split(' ')[0]}.pdf"
            path.write_bytes(report.pdf)
            summary.append(str(path))
        status = "ok" if report.ok else "PROBLEM"
        click.echo(f"{report.label:<{width}}  {status:<7}  {', '.join(summary)}".rstrip())
        for line in report.problems:
            click.echo(f"    - {line}")
        for line in report.notes:
            click.echo(f"    note: {line}")
    failed = sum(not r.ok for r in reports)
    click.echo(f"{len(reports)} letterheads checked, {failed} with problems")
    if failed:
        raise SystemExit(1)
