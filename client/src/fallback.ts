// A Python 3.11+ for the server when the chosen interpreter is older. No `vscode` import here, so
// the node tests can run it.
import { explainVerdict, type Verdict } from './probe';
import { fallbackCandidates, type Interpreter } from './interpreter';
import { findOnPath, type RestrictedContext } from './trust';

export interface FallbackSearch {
    found?: { interpreter: Interpreter; verdict: Verdict };
    /** What was tried and skipped, for the log. */
    notes: string[];
}

/**
 * The first candidate on the PATH (outside the workspace folders, so restricted mode may run it)
 * that the probe accepts. `probe` runs the launcher's `--probe` with that command.
 */
export async function findNewerPython(
    platform: NodeJS.Platform,
    context: RestrictedContext,
    probe: (command: string[]) => Promise<Verdict>,
): Promise<FallbackSearch> {
    const notes: string[] = [];
    const tried = new Set<string>();
    for (const candidate of fallbackCandidates(platform)) {
        const found = findOnPath(candidate.names, context, notes);
        if (found === undefined) {
            continue;
        }
        const command = [found, ...candidate.args];
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
