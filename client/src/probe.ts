// Reading the launcher's `--probe` report. No `vscode` import here, so the node tests can run it.
import { MINIMUM_PYTHON } from './launch';
import type { ImportStrategy } from './settings';
import { isWithin } from './trust';

export interface ProbeReport {
    python: [number, number, number];
    executable: string;
    torchmode: string | null;
    location: string | null;
    error: string | null;
}

export type Verdict =
    | { kind: 'ok'; python: string; torchmode: string; location: string }
    /** The interpreter could not be run or did not answer like the launcher does. */
    | { kind: 'no-python'; reason: string }
    | { kind: 'old-python'; python: string; executable: string }
    /** `fromEnvironment`, and the environment has no (working) torchmode. */
    | { kind: 'missing'; python: string; executable: string; reason: string }
    /** `useBundled`, and the bundled copy does not run here (another platform or Python version). */
    | { kind: 'bundle-unusable'; python: string; executable: string; reason: string };

export interface ProcessOutcome {
    /** The spawn error (e.g. ENOENT), if the process could not be started. */
    spawnError?: string;
    exitCode: number | null;
    stdout: string;
    stderr: string;
}

function isProbeReport(value: unknown): value is ProbeReport {
    if (value === null || typeof value !== 'object') {
        return false;
    }
    const report = value as Record<string, unknown>;
    return (
        Array.isArray(report.python) &&
        report.python.length === 3 &&
        report.python.every((part) => typeof part === 'number') &&
        typeof report.executable === 'string'
    );
}

/** The report is the last JSON line of stdout: a sitecustomize may print before it. */
export function parseProbe(stdout: string): ProbeReport | undefined {
    const lines = stdout.split(/\r?\n/).filter((line) => line.trim().startsWith('{'));
    for (const line of lines.reverse()) {
        try {
            const value: unknown = JSON.parse(line);
            if (isProbeReport(value)) {
                return value;
            }
        } catch {
            // Not the report; keep looking.
        }
    }
    return undefined;
}

/**
 * `onlyFrom`: restricted mode's check that the torchmode found is the one in that folder (the
 * bundled libraries), whatever put another one on sys.path.
 */
export function judgeProbe(outcome: ProcessOutcome, strategy: ImportStrategy, interpreter: string, onlyFrom?: string): Verdict {
    if (outcome.spawnError !== undefined) {
        return { kind: 'no-python', reason: `could not run ${interpreter}: ${outcome.spawnError}` };
    }
    const report = parseProbe(outcome.stdout);
    if (report === undefined) {
        const detail = outcome.stderr.trim().split(/\r?\n/).slice(-3).join(' ') || `exit code ${String(outcome.exitCode)}`;
        return { kind: 'no-python', reason: `${interpreter} did not run the torchmode launcher: ${detail}` };
    }
    const python = report.python.join('.');
    const [major, minor] = report.python;
    const [minMajor, minMinor] = MINIMUM_PYTHON;
    if (major < minMajor || (major === minMajor && minor < minMinor)) {
        return { kind: 'old-python', python, executable: report.executable };
    }
    if (report.torchmode === null || report.location === null) {
        const reason = report.error ?? 'torchmode is not installed';
        return strategy === 'fromEnvironment'
            ? { kind: 'missing', python, executable: report.executable, reason }
            : { kind: 'bundle-unusable', python, executable: report.executable, reason };
    }
    if (onlyFrom !== undefined && !isWithin(onlyFrom, report.location)) {
        return {
            kind: 'bundle-unusable',
            python,
            executable: report.executable,
            reason: `torchmode was found in ${report.location}, not in ${onlyFrom}; restricted mode runs only the bundled copy`,
        };
    }
    return { kind: 'ok', python, torchmode: report.torchmode, location: report.location };
}

/** One line for the status bar's tooltip and the log. */
export function explainVerdict(verdict: Verdict): string {
    switch (verdict.kind) {
        case 'ok':
            return `torchmode ${verdict.torchmode} on Python ${verdict.python} (${verdict.location})`;
        case 'no-python':
            return verdict.reason;
        case 'old-python':
            return `torchmode needs Python ${MINIMUM_PYTHON.join('.')} or newer; ${verdict.executable} is Python ${verdict.python}`;
        case 'missing':
            return `torchmode is not installed in ${verdict.executable} (Python ${verdict.python}): ${verdict.reason}`;
        case 'bundle-unusable':
            return `the torchmode bundled with the extension does not run on ${verdict.executable} (Python ${verdict.python}): ${verdict.reason}`;
    }
}
