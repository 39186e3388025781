"""Measure torchmode on real training code: precision on a corpus of public projects, recall on
real bugs from public history.

    python bench/realworld/run.py [--mirrors DIR] [--only NAME ...] [--holdout] [--no-corpus]
                                  [--no-bugs] [--save RUN.json] [--compare BEFORE.json]
                                  [--untriaged OUT.toml] [-j N]

The projects are read from a folder of git mirrors (``$TORCHMODE_MIRRORS``, by default
``/work/.mirror``), one bare repository per project at ``OWNER+NAME/repo``, and exported at their
pinned commits into a cache (``$TORCHMODE_REALWORLD_CACHE``, by default
``~/.cache/torchmode-realworld``). Nothing of the projects is kept in this repository: only the
list (``repos.toml``), the labels (``triage.toml``) and the bugs (``bugs.toml``).

Each project is checked as a user would check it: ``torchmode check`` on its folder with the
default configuration. See README.md beside this file for what is counted and how.
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import subprocess
import sys
import tarfile
import tomllib
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
LINE_TOLERANCE = 2  # a triage label still applies when its finding moved this many lines
BUG_TOLERANCE = 3  # a finding this close to the lines a fix touched is a hit
FILE_ERRORS: dict[str, int] = {}  # repository -> files torchmode could not check
EXTRA_ARGS: list[str] = []  # for torchmode check: a run with other settings than the defaults

# Which rules report each bug family.
FAMILIES: dict[str, frozenset[str]] = {
    "eval-not-undone": frozenset({"TM101"}),
    "eval-missing": frozenset({"TM102"}),
    "no-grad-missing": frozenset({"TM201"}),
    "grad-clearing": frozenset({"TM301", "TM302"}),
    "switch-not-called": frozenset({"TM103", "TM203", "TM201"}),
    "loss-keeps-graph": frozenset({"TM204"}),
}
SOURCE_PATTERNS = ("*.py", "*.ipynb", "*.pyi", "pyproject.toml", ".gitignore")


@dataclass(frozen=True)
class Repo:
    name: str
    commit: str
    kind: str
    shape: str
    note: str = ""
    root: str = ""
    added: str = ""  # when and why it joined the corpus (projects added after tuning)


@dataclass(frozen=True)
class Bug:
    id: str
    family: str
    repo: str
    buggy: str
    fixed: str
    path: str
    lines: tuple[int, int]
    evidence: str
    root: str = ""
    holdout: bool = False


@dataclass
class Found:
    """One finding, reduced to what labels key on (and the message, for whoever triages)."""

    repo: str
    path: str
    cell: int | None  # a notebook's cell (lines count within the cell)
    rule: str
    line: int
    subject: str
    severity: str
    message: str
    places: tuple[int, ...]  # every line the finding names: its own, related, its fix's edits
    # the notebook cell of each of ``places`` (a related line may be in another cell)
    place_cells: tuple[int | None, ...] = ()


@dataclass
class Label:
    repo: str
    path: str
    rule: str
    line: int
    subject: str
    label: str
    cause: str
    reason: str
    cell: int | None = None


@dataclass
class BugResult:
    id: str
    family: str
    holdout: bool
    hit: bool
    false_on_fixed: int
    # a finding of the family anywhere in the function the fix touched (the strict hit wants
    # it within the touched lines; a fix may add eval() at the top of the function whose
    # forward the finding names)
    in_function: bool = False
    error: str = ""
    hits: list[str] = field(default_factory=list)


# ---------------------------------------------------------------------------------------------
# inputs


def load_repos(path: Path = HERE / "repos.toml") -> list[Repo]:
    return [Repo(**entry) for entry in tomllib.loads(path.read_text())["repo"]]


def load_labels(path: Path = HERE / "triage.toml") -> list[Label]:
    if not path.exists():
        return []
    return [Label(**entry) for entry in tomllib.loads(path.read_text()).get("finding", [])]


def load_bugs(path: Path = HERE / "bugs.toml") -> list[Bug]:
    if not path.exists():
        return []
    bugs = []
    for entry in tomllib.loads(path.read_text()).get("bug", []):
        entry = dict(entry)
        entry["lines"] = tuple(entry["lines"])
        bugs.append(Bug(**entry))
    return bugs


# ---------------------------------------------------------------------------------------------
# projects on disk


def mirror_of(mirrors: Path, repo: str) -> Path:
    """The git directory of a mirror: bare (``repo``) or with an empty work tree (``repo/.git``)."""
    folder = mirrors / repo.replace("/", "+") / "repo"
    return folder / ".git" if (folder / ".git").is_dir() else folder


def export(mirrors: Path, cache: Path, repo: str, commit: str, root: str = "") -> Path:
    """The project's sources at ``commit`` in the cache (exported once)."""
    dest = cache / repo.replace("/", "+") / commit
    done = dest / ".exported"
    if done.exists():
        return dest / root if root else dest
    git_dir = mirror_of(mirrors, repo)
    dest.mkdir(parents=True, exist_ok=True)
    names = subprocess.run(
        ["git", "--git-dir", str(git_dir), "ls-tree", "-r", "-z", "--name-only", commit],
        capture_output=True,
        check=True,
    ).stdout.split(b"\0")
    wanted = [
        n.decode()
        for n in names
        if n and any(Path(n.decode()).match(pattern) for pattern in SOURCE_PATTERNS)
    ]
    # Snapshots lack their biggest files: export one by one what `git archive` cannot.
    for chunk in _chunks(wanted, 500):
        archive = subprocess.run(
            ["git", "--git-dir", str(git_dir), "archive", "--format=tar", commit, "--", *chunk],
            capture_output=True,
        )
        if archive.returncode == 0:
            _untar(archive.stdout, dest)
            continue
        for name in chunk:
            blob = subprocess.run(
                ["git", "--git-dir", str(git_dir), "show", f"{commit}:{name}"],
                capture_output=True,
            )
            if blob.returncode == 0:
                target = dest / name
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(blob.stdout)
    done.write_text(commit)
    return dest / root if root else dest


def _chunks(items: Sequence[str], size: int) -> Iterable[Sequence[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _untar(data: bytes, dest: Path) -> None:
    import io

    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        tar.extractall(dest, filter="data")


def check(folder: Path, repo: str, strip: Path) -> list[Found]:
    """``torchmode check`` on a folder, as a user runs it; paths relative to ``strip``."""
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "torchmode",
            "check",
            "--format",
            "json",
            "--exit-zero",
            "-j1",
            *EXTRA_ARGS,
        ],
        cwd=folder,
        capture_output=True,
        text=True,
    )
    # Exit 2 with JSON on stdout: some files could not be checked (Python 2 code, say), the
    # others were; their messages go to stderr.
    if proc.returncode not in (0, 2) or not proc.stdout.strip():
        raise RuntimeError(f"torchmode check failed in {folder}: {proc.stderr[-2000:]}")
    if proc.stderr.strip():
        FILE_ERRORS[repo] = len(proc.stderr.strip().splitlines())
    found = []
    for entry in json.loads(proc.stdout):
        path = Path(entry["filename"]).resolve().relative_to(strip.resolve()).as_posix()
        cell = entry.get("cell")
        places = [entry["location"]["row"]]
        places += [r["location"]["row"] for r in entry.get("related", [])]
        cells = [cell] + [r.get("cell", cell) for r in entry.get("related", [])]
        fix = entry.get("fix") or {}
        places += [e["location"]["row"] for e in fix.get("edits", [])]
        cells += [e.get("cell", cell) for e in fix.get("edits", [])]
        found.append(
            Found(
                repo=repo,
                path=path,
                cell=entry.get("cell"),
                rule=entry["code"],
                line=entry["location"]["row"],
                subject=entry.get("subject", ""),
                severity=entry["severity"],
                message=entry["message"],
                places=tuple(places),
                place_cells=tuple(cells),
            )
        )
    return found


def notebook_lines(text: str) -> list[list[int]]:
    """For each cell of a notebook, the line of the ``.ipynb`` file each of its source lines is
    on (nbformat writes one source line per JSON line), so that a finding's cell and row compare
    with the lines of a diff of the notebook."""
    raw = text.splitlines()
    cells = json.loads(text).get("cells", [])
    out: list[list[int]] = []
    at = 0
    for cell in cells:
        source = cell.get("source", [])
        count = len(source) if isinstance(source, list) else source.count("\n") + 1
        while at < len(raw) and '"source"' not in raw[at]:
            at += 1
        if at < len(raw) and raw[at].rstrip().endswith("["):
            out.append([at + 2 + k for k in range(count)])  # 1-based, elements below the key
            at += count
        else:
            out.append([at + 1] * max(count, 1))
        at += 1
    return out


def in_file_lines(folder: Path, found: list[Found]) -> list[Found]:
    """Findings in notebooks moved to the lines of the ``.ipynb`` file itself."""
    tables: dict[str, list[list[int]]] = {}
    for f in found:
        if f.cell is None:
            continue
        if f.path not in tables:
            try:
                tables[f.path] = notebook_lines((folder / f.path).read_text(encoding="utf-8"))
            except (OSError, ValueError):
                tables[f.path] = []
        table = tables[f.path]

        def move(row: int, number: int | None, table: list[list[int]] = table) -> int:
            cell = table[number - 1] if number is not None and 0 < number <= len(table) else []
            return cell[min(row, len(cell)) - 1] if cell else row

        f.line = move(f.line, f.cell)
        # a related line (where the train mode was set) may be in another cell
        cells = f.place_cells or (f.cell,) * len(f.places)
        f.places = tuple(
            move(row, c if c is not None else f.cell)
            for row, c in zip(f.places, cells, strict=True)
        )
    return found


def _fixed_lines(mirrors: Path, bug: Bug) -> tuple[int, int] | None:
    """The lines of the fixed file that the fixing commit wrote or next to which it removed."""
    git = ["git", "--git-dir", str(mirror_of(mirrors, bug.repo))]
    diff = subprocess.run(
        [*git, "diff", "-U0", "-M", bug.buggy, bug.fixed, "--", bug.path],
        capture_output=True,
        text=True,
        errors="replace",
    ).stdout
    spans = []
    for line in diff.splitlines():
        if not line.startswith("@@"):
            continue
        new = line.split("+", 1)[1].split(" ", 1)[0]
        start, _, count = new.partition(",")
        length = int(count) if count else 1
        spans.append((int(start), int(start) + max(length, 1) - 1))
    if not spans:
        return None
    return min(s for s, _ in spans), max(e for _, e in spans)


# ---------------------------------------------------------------------------------------------
# scoring


def match_labels(found: list[Found], labels: list[Label]) -> list[tuple[Found, Label | None]]:
    """Each finding with its label: same repository, path, rule and subject, nearest line."""
    by_key: dict[tuple[str, str, int | None, str, str], list[Label]] = defaultdict(list)
    for label in labels:
        by_key[(label.repo, label.path, label.cell, label.rule, label.subject)].append(label)
    used: set[int] = set()
    pairs = []
    for f in sorted(found, key=lambda f: (f.repo, f.path, f.line)):
        candidates = [
            lb
            for lb in by_key.get((f.repo, f.path, f.cell, f.rule, f.subject), [])
            if id(lb) not in used and abs(lb.line - f.line) <= LINE_TOLERANCE
        ]
        best = min(candidates, key=lambda lb: abs(lb.line - f.line), default=None)
        if best is not None:
            used.add(id(best))
        pairs.append((f, best))
    return pairs


def precision_table(pairs: list[tuple[Found, Label | None]]) -> dict[str, dict[str, int]]:
    table: dict[str, Counter[str]] = defaultdict(Counter)
    for f, label in pairs:
        verdict = label.label if label else "untriaged"
        for key in ("all", f.rule, f"{f.rule}:{f.severity}", f"level:{f.severity}"):
            table[key][verdict] += 1
            table[key]["findings"] += 1
    return {key: dict(counts) for key, counts in sorted(table.items())}


def near(lines: Iterable[int], span: tuple[int, int]) -> bool:
    lo, hi = span
    return any(lo - BUG_TOLERANCE <= line <= hi + BUG_TOLERANCE for line in lines)


def check_bug(mirrors: Path, cache: Path, bug: Bug) -> BugResult:
    rules = FAMILIES[bug.family]
    result = BugResult(bug.id, bug.family, bug.holdout, hit=False, false_on_fixed=0)
    try:
        prefix = f"{bug.root}/" if bug.root else ""
        path = bug.path.removeprefix(prefix)
        buggy_dir = export(mirrors, cache, bug.repo, bug.buggy, bug.root)
        function = enclosing_function(buggy_dir / path, bug.lines)
        for f in in_file_lines(buggy_dir, check(buggy_dir, bug.repo, buggy_dir)):
            if f.path != path or f.rule not in rules:
                continue
            if near(f.places, bug.lines):
                result.hit = True
                result.hits.append(f"{f.rule}:{f.line}")
            if result.hit or (function is not None and near(f.places, function)):
                result.in_function = True
        fixed_dir = export(mirrors, cache, bug.repo, bug.fixed, bug.root)
        span = _fixed_lines(mirrors, bug)
        if span is not None:
            for f in in_file_lines(fixed_dir, check(fixed_dir, bug.repo, fixed_dir)):
                if f.path == path and f.rule in rules and near((f.line,), span):
                    result.false_on_fixed += 1
    except (subprocess.CalledProcessError, RuntimeError, OSError) as error:
        result.error = str(error)[:300]
    return result


def enclosing_function(path: Path, lines: tuple[int, int]) -> tuple[int, int] | None:
    """The lines of the innermost function around ``lines`` in a Python file (None: at module
    level, a notebook, or a file Python cannot parse)."""
    if path.suffix != ".py":
        return None
    try:
        tree = ast.parse(path.read_text(encoding="utf-8", errors="replace"))
    except (SyntaxError, ValueError, OSError):
        return None
    lo, hi = lines
    best: tuple[int, int] | None = None
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.end_lineno:
            first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
            if first <= lo and hi <= node.end_lineno and (best is None or first >= best[0]):
                best = (first, node.end_lineno)
    return best


def recall_table(results: list[BugResult]) -> dict[str, dict[str, int]]:
    table: dict[str, Counter[str]] = defaultdict(Counter)
    for r in results:
        for key in ("all", r.family):
            table[key]["bugs"] += 1
            table[key]["hits"] += r.hit
            table[key]["in_function"] += r.in_function
            table[key]["false_on_fixed"] += r.false_on_fixed
            table[key]["errors"] += bool(r.error)
    return {key: dict(counts) for key, counts in sorted(table.items())}


# ---------------------------------------------------------------------------------------------
# report


def _ratio(num: int, den: int) -> str:
    return f"{num / den:.2f}" if den else "-"


def print_precision(table: dict[str, dict[str, int]]) -> None:
    print("\nPrecision on the corpus (debatable and untriaged count as false)")
    print(
        f"{'':18} {'findings':>8} {'true':>5} {'false':>5} {'debat.':>6} {'untri.':>6} {'prec':>5}"
    )
    for key, c in table.items():
        n = c.get("findings", 0)
        print(
            f"{key:18} {n:8} {c.get('true', 0):5} {c.get('false', 0):5} "
            f"{c.get('debatable', 0):6} {c.get('untriaged', 0):6} {_ratio(c.get('true', 0), n):>5}"
        )


def print_recall(table: dict[str, dict[str, int]], label: str) -> None:
    print(f"\nRecall on {label}")
    print(
        f"{'':18} {'bugs':>5} {'hits':>5} {'recall':>6} {'in function':>11} "
        f"{'false on fixed':>15} {'errors':>6}"
    )
    for key, c in table.items():
        print(
            f"{key:18} {c['bugs']:5} {c['hits']:5} {_ratio(c['hits'], c['bugs']):>6} "
            f"{_ratio(c.get('in_function', 0), c['bugs']):>11} "
            f"{c['false_on_fixed']:15} {c['errors']:6}"
        )


def write_untriaged(pairs: list[tuple[Found, Label | None]], out: Path) -> int:
    rows = [f for f, label in pairs if label is None]
    with out.open("w") as stream:
        for f in rows:
            stream.write(
                "[[finding]]\n"
                f"repo = {json.dumps(f.repo)}\npath = {json.dumps(f.path)}\n"
                + (f"cell = {f.cell}\n" if f.cell is not None else "")
                + f"rule = {json.dumps(f.rule)}\nline = {f.line}\n"
                f"subject = {json.dumps(f.subject)}\n"
                f'label = ""\ncause = ""\nreason = ""\n'
                f"# {f.severity}: {f.message}\n\n"
            )
    return len(rows)


def compare(before: dict[str, object], after: dict[str, object]) -> None:
    """Findings whose label changed between two runs: a true one lost, a false one new."""

    def keyed(run: dict[str, object]) -> dict[tuple[str, ...], str]:
        return {
            (f["repo"], f["path"], str(f["cell"]), f["rule"], f["subject"], str(f["line"])): f[
                "label"
            ]
            for f in run["findings"]  # type: ignore[attr-defined]
        }

    old, new = keyed(before), keyed(after)
    if not old or not new:
        old = new = {}  # one of the runs checked no corpus: nothing to compare
    lost = sorted(k for k in old.keys() - new.keys() if old[k] == "true")
    gained = sorted(k for k in new.keys() - old.keys() if new[k] != "true")
    print(f"\nAgainst the earlier run: {len(lost)} true findings lost, {len(gained)} new not true")
    for k in lost:
        print("  lost true:", ":".join(k))
    for k in gained:
        print(f"  new {new[k]}:", ":".join(k))
    old_hits = {b["id"] for b in before.get("bugs", []) if b["hit"]}  # type: ignore[attr-defined]
    new_hits = {b["id"] for b in after.get("bugs", []) if b["hit"]}  # type: ignore[attr-defined]
    for bug_id in sorted(old_hits - new_hits):
        print("  bug no longer found:", bug_id)
    for bug_id in sorted(new_hits - old_hits):
        print("  bug now found:", bug_id)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--mirrors", type=Path, default=Path(os.environ.get("TORCHMODE_MIRRORS", "/work/.mirror"))
    )
    parser.add_argument(
        "--cache",
        type=Path,
        default=Path(
            os.environ.get("TORCHMODE_REALWORLD_CACHE", Path.home() / ".cache/torchmode-realworld")
        ),
    )
    parser.add_argument("--only", nargs="*", default=[], help="repositories (owner/name)")
    parser.add_argument("--holdout", action="store_true", help="also the held-out bugs")
    parser.add_argument("--family", nargs="*", default=[], choices=sorted(FAMILIES))
    parser.add_argument("--no-corpus", action="store_true")
    parser.add_argument("--no-bugs", action="store_true")
    parser.add_argument("--save", type=Path, help="write this run's findings and results (JSON)")
    parser.add_argument("--compare", type=Path, help="an earlier --save file")
    parser.add_argument("--untriaged", type=Path, help="write untriaged findings as label stubs")
    parser.add_argument("--list", action="store_true", help="list each finding with its label")
    parser.add_argument("-j", "--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--min-severity", help="torchmode's --min-severity (default: its own)")
    args = parser.parse_args(argv)
    if args.min_severity:
        EXTRA_ARGS.extend(["--min-severity", args.min_severity])

    repos = [r for r in load_repos() if not args.only or r.name in args.only]
    bugs = [
        b
        for b in load_bugs()
        if (args.holdout or not b.holdout)
        and (not args.only or b.repo in args.only)
        and (not args.family or b.family in args.family)
    ]
    needed = {r.name for r in repos} if not args.no_corpus else set()
    needed |= {b.repo for b in bugs} if not args.no_bugs else set()
    missing = sorted(n for n in needed if not mirror_of(args.mirrors, n).is_dir())
    if missing:
        print(f"{len(missing)} mirrors missing under {args.mirrors} (fetch them; skipped here):")
        for name in missing:
            print(f"  {name}")
    run: dict[str, object] = {"findings": [], "bugs": []}

    if not args.no_corpus:
        present = [r for r in repos if r.name not in missing]

        def one(repo: Repo) -> list[Found]:
            folder = export(args.mirrors, args.cache, repo.name, repo.commit, repo.root)
            return check(folder, repo.name, folder)

        with ThreadPoolExecutor(args.jobs) as pool:
            found = [f for chunk in pool.map(one, present) for f in chunk]
        pairs = match_labels(found, load_labels())
        table = precision_table(pairs)
        print(f"\nCorpus: {len(present)} projects, {len(found)} findings")
        if FILE_ERRORS:
            errors = ", ".join(f"{name} {n}" for name, n in sorted(FILE_ERRORS.items()))
            print(f"Files that could not be checked: {errors}")
        print_precision(table)
        if args.list:
            for f, label in pairs:
                verdict = label.label if label else "untriaged"
                cell = f"#{f.cell}" if f.cell is not None else ""
                print(f"  {verdict:9} {f.repo}:{f.path}{cell}:{f.line} {f.rule} {f.subject}")
        run["findings"] = [
            {**asdict(f), "label": label.label if label else "untriaged"} for f, label in pairs
        ]
        run["precision"] = table
        if args.untriaged:
            n = write_untriaged(pairs, args.untriaged)
            print(f"{n} untriaged findings written to {args.untriaged}")

    if not args.no_bugs and bugs:
        present_bugs = [b for b in bugs if b.repo not in missing]
        with ThreadPoolExecutor(args.jobs) as pool:
            results = list(pool.map(lambda b: check_bug(args.mirrors, args.cache, b), present_bugs))
        tuned = [r for r in results if not r.holdout]
        print_recall(recall_table(tuned), f"{len(tuned)} labelled bugs (tuning set)")
        if args.holdout:
            held = [r for r in results if r.holdout]
            print_recall(recall_table(held), f"{len(held)} held-out bugs")
            print_recall(recall_table(results), f"all {len(results)} bugs")
        for r in results:
            if r.error:
                print(f"  error {r.id}: {r.error}")
        run["bugs"] = [asdict(r) for r in results]
        run["recall"] = recall_table(results)

    if args.save:
        args.save.write_text(json.dumps(run, indent=1) + "\n")
    if args.compare:
        compare(json.loads(args.compare.read_text()), run)
    return 0


if __name__ == "__main__":
    sys.exit(main())
