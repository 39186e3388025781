"""``torchmode``: check, fix, explain rules, run the language server.

Exit codes: 0 no findings, 1 findings (or, with --diff, changes to make), 2 a usage or
configuration error or a file that could not be checked.
"""

from __future__ import annotations

import argparse
import importlib
import io
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

import torchmode
from torchmode import __version__
from torchmode.analysis import RULES, Session, cache_folder_tag, explain, lookup
from torchmode.cli import output_text, runner
from torchmode.cli.output_text import Styler
from torchmode.cli.progress import Progress
from torchmode.cli.reports import FileResult, Job, Mode, display_path
from torchmode.config import (
    CacheChoice,
    ConfigError,
    Overrides,
    in_project,
    load_config_file,
    merge,
    parse_code_list,
)
from torchmode.files.discovery import ProjectConfigs, discover
from torchmode.files.source_files import SourceError, decode, read_bytes
from torchmode.findings import Severity

EXIT_CLEAN, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2
FORMATS = ("text", "json", "sarif", "github")


def _jobs(value: str) -> int:
    try:
        jobs = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {value!r}") from None
    if jobs < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return jobs


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="torchmode",
        description="Finds the PyTorch training and evaluation mistakes that silently ruin runs.",
    )
    parser.add_argument("--version", action="version", version=f"torchmode {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    check = commands.add_parser(
        "check",
        help="check files and directories (default: the current directory)",
        description="Check Python files and Jupyter notebooks. Exit status: 0 no findings, "
        "1 findings, 2 usage error or a file that could not be checked.",
    )
    check.add_argument("paths", nargs="*", metavar="PATH", help="files or directories")
    check.add_argument("--format", choices=FORMATS, default="text", help="output format")
    check.add_argument("--fix", action="store_true", help="apply safe fixes in place")
    check.add_argument(
        "--unsafe-fixes", action="store_true", help="with --fix or --diff: also unsafe fixes"
    )
    check.add_argument(
        "--diff", action="store_true", help="print the fixes as a unified diff, write nothing"
    )
    check.add_argument(
        "--add-noqa",
        action="store_true",
        help="add a `# noqa: CODE` comment to every line with a finding, so that only new "
        "findings are reported from now on",
    )
    check.add_argument("--select", metavar="CODES", help="only these rules (codes or prefixes)")
    check.add_argument("--ignore", metavar="CODES", help="also ignore these rules")
    check.add_argument(
        "--min-severity",
        choices=[s.value for s in Severity],
        help="the least level reported (default: warning)",
    )
    check.add_argument(
        "--exit-zero", action="store_true", help="exit 0 even when there are findings"
    )
    check.add_argument(
        "-j",
        "--jobs",
        type=_jobs,
        default=None,
        help="parallel processes (default: all cores)",
    )
    check.add_argument("--statistics", action="store_true", help="count findings per rule")
    check.add_argument("-q", "--quiet", action="store_true", help="print findings only, no summary")
    check.add_argument(
        "--details",
        action="store_true",
        help="text output: each finding's explanation on an indented line below it",
    )
    check.add_argument(
        "--config",
        metavar="PATH",
        help="use this TOML file's settings for every file instead of the nearest pyproject.toml",
    )
    _cache_arguments(check)

    rule = commands.add_parser("rule", help="show a rule's documentation")
    rule.add_argument("rule", metavar="CODE_OR_NAME")

    explain = commands.add_parser(
        "explain",
        help="say what the analysis knows at one line",
        description="Print each model's mode and the grad mode at a line of a Python file, as "
        "each function that reaches it sees them, what happens on the line, its findings, and "
        "for an evaluation that is not reported, what held the rules back.",
    )
    explain.add_argument("location", metavar="PATH:LINE", help="a .py file and a 1-based line")
    explain.add_argument(
        "--config",
        metavar="PATH",
        help="use this TOML file's settings instead of the nearest pyproject.toml",
    )
    _cache_arguments(explain)

    rules = commands.add_parser("rules", help="list the rules")
    rules.add_argument("--format", choices=("text", "json"), default="text")

    # Listed for --help only: main() hands `lsp ...` to the server before parsing.
    commands.add_parser("lsp", help="run the language server (stdio)")
    return parser


def _colour(stream: TextIO) -> bool:
    if os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR"):
        return True
    return hasattr(stream, "isatty") and stream.isatty()


def _error(message: str) -> None:
    sys.stderr.write(f"torchmode: {message}\n")


def _cache_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--no-cache",
        action="store_true",
        help="do not read or keep the summaries of other files between runs",
    )
    parser.add_argument(
        "--cache-dir",
        metavar="DIR",
        default=os.environ.get("TORCHMODE_CACHE_DIR") or None,
        help="keep them in DIR (default: .torchmode_cache in the project's root; "
        "or TORCHMODE_CACHE_DIR)",
    )


def _cache_choice(args: argparse.Namespace) -> CacheChoice | None:
    if args.no_cache:
        return None
    folder = Path(os.path.abspath(args.cache_dir)) if args.cache_dir else None
    return CacheChoice(cache_folder_tag(__version__, Path(torchmode.__file__).parent), folder)


def _check(args: argparse.Namespace) -> int:
    if args.unsafe_fixes and not (args.fix or args.diff):
        _error("--unsafe-fixes needs --fix or --diff")
        return EXIT_ERROR
    if args.fix and args.diff:
        _error("use either --fix or --diff, not both")
        return EXIT_ERROR
    if args.add_noqa and (args.fix or args.diff or args.statistics):
        # a comment written over a finding --fix would repair would hide a fixable mistake
        _error("--add-noqa goes alone: not with --fix, --diff or --statistics")
        return EXIT_ERROR
    try:
        overrides = Overrides(
            select=parse_code_list(args.select, "--select") if args.select else None,
            ignore=parse_code_list(args.ignore, "--ignore") if args.ignore else frozenset(),
            min_severity=Severity(args.min_severity) if args.min_severity else None,
        )
        configs = ProjectConfigs(load_config_file(Path(args.config)) if args.config else None)
        found = discover(args.paths or ["."], configs.excluded)
        roots = [Path(os.path.abspath(p)) for p in args.paths or ["."]]
        cache = _cache_choice(args)
        jobs = [
            Job(
                path,
                display_path(path),
                in_project(
                    merge(configs.of(path).settings_for(path), overrides),
                    path,
                    roots,
                    cache=cache,
                ),
                Mode(
                    fix=args.fix,
                    diff=args.diff,
                    unsafe=args.unsafe_fixes,
                    with_fixes=args.format in ("json", "sarif"),
                    add_noqa=args.add_noqa,
                ),
            )
            for path in found.files
        ]
    except ConfigError as error:
        _error(str(error))
        return EXIT_ERROR

    for path, line, warning in found.warnings:
        sys.stderr.write(f"{display_path(Path(path))}:{line}: {warning}\n")
    for path, problem in found.problems:
        sys.stderr.write(f"{path}: {problem}\n")
    progress = Progress(len(jobs), sys.stderr, enabled=sys.stderr.isatty() and not args.quiet)
    try:
        results = runner.run(jobs, args.jobs or runner.default_jobs(), progress.update)
    finally:
        progress.close()
    for result in results:
        if result.error is not None:
            sys.stderr.write(result.error_line() + "\n")

    _write_output(args, results, len(found.problems))
    failed = bool(found.problems) or any(result.error is not None for result in results)
    if failed:
        return EXIT_ERROR
    if args.diff:
        return EXIT_FINDINGS if any(result.diff for result in results) else EXIT_CLEAN
    # with --add-noqa, the findings left are those no comment could silence
    has_findings = any(result.reports for result in results)
    return EXIT_FINDINGS if has_findings and not args.exit_zero else EXIT_CLEAN


def _write_output(args: argparse.Namespace, results: list[FileResult], not_found: int) -> None:
    out = sys.stdout
    if args.add_noqa:
        _write_noqa_outcome(args, results, not_found)
        return
    if args.diff:
        for result in results:
            out.write(result.diff)
        if not args.quiet:
            would = sum(result.fixed for result in results)
            files = sum(1 for result in results if result.diff)
            sys.stderr.write(
                f"Would fix {output_text.plural(would, 'problem')} "
                f"in {output_text.plural(files, 'file')}.\n"
            )
        return
    if args.statistics:
        if args.format == "json":
            json.dump(output_text.statistics_records(results), out, indent=2)
            out.write("\n")
        else:
            output_text.write_statistics(results, out)
        return
    if args.format == "json":
        from torchmode.cli import output_json

        output_json.write(results, out)
    elif args.format == "sarif":
        from torchmode.cli import output_sarif

        output_sarif.write(results, out, Path.cwd())
    elif args.format == "github":
        from torchmode.cli import output_github

        output_github.write(results, out)
    else:
        output_text.write_reports(results, out, Styler(_colour(out)), details=args.details)
        if not args.quiet:
            out.write(
                output_text.summary(
                    results, fixing=args.fix, unsafe=args.unsafe_fixes, not_found=not_found
                )
                + "\n"
            )


def _write_noqa_outcome(
    args: argparse.Namespace, results: list[FileResult], not_found: int
) -> None:
    """What --add-noqa did, as ruff says it (on stderr), and the findings it could not
    silence in the chosen format (their line continues with a backslash or ends inside a
    string)."""
    if args.format != "text" or any(result.reports for result in results):
        _write_output(argparse.Namespace(**{**vars(args), "add_noqa": False}), results, not_found)
    if args.quiet:
        return
    added = sum(result.noqa_added for result in results)
    sys.stderr.write(f"Added {output_text.plural(added, 'noqa directive')}.\n")
    # a file with a syntax error is not written (as with --fix): its error is on stderr already
    left = sum(len(result.reports) for result in results if result.error is None)
    if left:
        sys.stderr.write(
            f"{output_text.plural(left, 'finding')} could not be silenced: no comment can go "
            "on a line that continues with a backslash or ends inside a string.\n"
        )


def _explain(args: argparse.Namespace) -> int:
    where, _, number = args.location.rpartition(":")
    if not where or not number.isdigit() or int(number) < 1:
        _error(f"expected PATH:LINE (a 1-based line number), got {args.location!r}")
        return EXIT_ERROR
    path = Path(where)
    if path.suffix == ".ipynb":
        _error("explain reads .py files; a notebook's cells are not supported yet")
        return EXIT_ERROR
    try:
        configs = ProjectConfigs(load_config_file(Path(args.config)) if args.config else None)
        settings = in_project(
            configs.of(path).settings_for(path), path, [], cache=_cache_choice(args)
        )
        text = decode(read_bytes(path)).text
    except ConfigError as error:
        _error(str(error))
        return EXIT_ERROR
    except SourceError as error:
        _error(f"{where}: {error}")
        return EXIT_ERROR
    except OSError as error:
        _error(f"{where}: cannot read: {error.strerror or error}")
        return EXIT_ERROR
    line = int(number) - 1
    if line >= max(len(text.splitlines()), 1):
        _error(f"{where} has {len(text.splitlines())} lines")
        return EXIT_ERROR
    session = Session()
    analysis = session.analyze(text, settings)
    sys.stdout.write(explain(analysis, line, display_path(path)))
    session.release(analysis)
    return EXIT_CLEAN


def _rule(args: argparse.Namespace) -> int:
    rule = lookup(args.rule)
    if rule is None:
        _error(f"unknown rule {args.rule!r}; `torchmode rules` lists them")
        return EXIT_ERROR
    sys.stdout.write(
        f"# {rule.code} {rule.name}\n\n{rule.summary}\n\n"
        f"Default severity: {rule.default_severity.value}. Documentation: {rule.url}\n"
    )
    if rule.docs:
        sys.stdout.write("\n" + rule.docs.strip() + "\n")
    return EXIT_CLEAN


def _rules(args: argparse.Namespace) -> int:
    if args.format == "json":
        records = [
            {
                "code": r.code,
                "name": r.name,
                "summary": r.summary,
                "severity": r.default_severity.value,
                "url": r.url,
            }
            for r in RULES.values()
        ]
        json.dump(records, sys.stdout, indent=2)
        sys.stdout.write("\n")
        return EXIT_CLEAN
    width = max(len(r.name) for r in RULES.values())
    for r in RULES.values():
        sys.stdout.write(
            f"{r.code}  {r.name:<{width}}  {r.default_severity.value:<7}  {r.summary}\n"
        )
    return EXIT_CLEAN


def _lsp(argv: list[str]) -> int:
    # Imported only here: the CLI must work where the server's dependencies are missing.
    try:
        server = importlib.import_module("torchmode.lsp.server")
    except ImportError as error:
        _error(f"the language server is not available: {error}")
        return EXIT_ERROR
    return int(server.main(argv) or 0)


def _tolerate_undecodable_names() -> None:
    """A file name that is not valid in the file system's encoding reaches Python with
    surrogate escapes; printing it must not crash the report (stderr already tolerates
    them: Python opens it with "backslashreplace")."""
    for stream in (sys.stdout, sys.stderr):
        if isinstance(stream, io.TextIOWrapper) and stream.errors == "strict":
            stream.reconfigure(errors="backslashreplace")


def main(argv: Sequence[str] | None = None) -> int:
    arguments = list(sys.argv[1:] if argv is None else argv)
    if arguments[:1] == ["lsp"]:
        return _lsp(arguments[1:])
    _tolerate_undecodable_names()
    parser = _parser()
    try:
        args, extra = parser.parse_known_args(arguments)
        # `check a.py --fix b.py`: argparse leaves paths that follow an option unparsed.
        if extra and (args.command != "check" or any(e.startswith("-") for e in extra)):
            parser.error(f"unrecognized arguments: {' '.join(extra)}")
        if extra:
            args.paths.extend(extra)
    except SystemExit as exit_:  # argparse: --help (0) or a usage error (2)
        return int(exit_.code or 0)
    commands = {"check": _check, "explain": _explain, "rule": _rule, "rules": _rules}
    if args.command is None:
        parser.print_help(sys.stderr)
        return EXIT_ERROR
    try:
        return commands[args.command](args)
    except KeyboardInterrupt:
        _error("interrupted")
        return 130
    except BrokenPipeError:
        # `torchmode check | head`: the reader went away. Point stdout at /dev/null so
        # the interpreter's final flush does not complain about the closed pipe.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_FINDINGS
