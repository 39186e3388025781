// A Python 3.11+ for the server when the chosen interpreter is older. No `vscode` import here, so
// the node tests can run it.
import { MINIMUM_PYTHON } from './launch';
import { explainVerdict, type Verdict } from './probe';
import { fallbackCandidates, type Interpreter } from './interpreter';
import { findOnPath, type RestrictedContext } from './trust';

export interface FallbackSearch {
    found?: { interpreter: Interpreter; verdict: Verdict };
    /** What was tried and skipped, for the log. */
    notes: string[];
}

/** An environment the Python extension knows, as far as it knows it without resolving. */
export interface KnownEnvironment {
    executable: string | undefined;
    major: number | undefined;
    minor: number | undefined;
}

/** The executables of the known environments on Python 3.11 or newer, newest first. */
export function newerEnvironments(environments: readonly KnownEnvironment[]): string[] {
    const [minMajor, minMinor] = MINIMUM_PYTHON;
    const newer = environments.filter(
        (environment): environment is KnownEnvironment & { executable: string; major: number; minor: number } =>
            environment.executable !== undefined &&
            environment.major !== undefined &&
            environment.minor !== undefined &&
            (environment.major > minMajor || (environment.major === minMajor && environment.minor >= minMinor)),
    );
    newer.sort((a, b) => b.major - a.major || b.minor - a.minor);
    return [...new Set(newer.map((environment) => environment.executable))];
}

/**
 * The first candidate on the PATH (outside the workspace folders, so restricted mode may run it)
 * that the probe accepts, else the first of `environments` (the Python extension's, in a trusted
 * workspace only) that it accepts. `probe` runs the launcher's `--probe` with that command.
 */
export async function findNewerPython(
    platform: NodeJS.Platform,
    context: RestrictedContext,
    probe: (command: string[]) => Promise<Verdict>,
    environments: readonly string[] = [],
): Promise<FallbackSearch> {
    const notes: string[] = [];
    const tried = new Set<string>();
    const onPath = fallbackCandidates(platform).flatMap((candidate) => {
        const found = findOnPath(candidate.names, context, notes);
        return found === undefined ? [] : [[found, ...candidate.args]];
    });
    for (const command of [...onPath, ...environments.map((executable) => [executable])]) {
        const key = command.join(' ');
        if (tried.has(key)) {
            continue;
        }
        tried.add(key);
        const verdict = await probe(command);
        notes.push(`tried ${key}: ${explainVerdict(verdict)}`);
        if (verdict.kind === 'ok') {
            return { found: { interpreter: { command, source: 'fallback' }, verdict }, notes };
        }
    }
    return { notes };
}
