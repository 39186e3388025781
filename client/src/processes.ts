// Running a short-lived child process to completion. No `vscode` import here, so the node tests can run it.
import { spawn } from 'node:child_process';

import type { ProcessOutcome } from './probe';

export interface RunOptions {
    env?: Record<string, string | undefined>;
    cwd?: string;
    timeoutMs?: number;
    /** Receives output as it arrives, e.g. to show pip's progress in the log. */
    onOutput?: (text: string) => void;
}

export function runProcess(command: string, args: readonly string[], options: RunOptions = {}): Promise<ProcessOutcome> {
    return new Promise((resolve) => {
        let stdout = '';
        let stderr = '';
        let settled = false;
        const finish = (outcome: ProcessOutcome): void => {
            if (!settled) {
                settled = true;
                resolve(outcome);
            }
        };
        const child = spawn(command, args, {
            env: options.env,
            cwd: options.cwd,
            stdio: ['ignore', 'pipe', 'pipe'],
            timeout: options.timeoutMs,
            windowsHide: true,
        });
        child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
            stdout += chunk;
            options.onOutput?.(chunk);
        });
        child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
            stderr += chunk;
            options.onOutput?.(chunk);
        });
        child.on('error', (error) => finish({ spawnError: error.message, exitCode: null, stdout, stderr }));
        child.on('close', (code, signal) => {
            const killed = signal !== null ? `${stderr}\n(stopped by ${signal}${options.timeoutMs !== undefined ? ` after ${options.timeoutMs} ms` : ''})` : stderr;
            finish({ exitCode: code, stdout, stderr: killed });
        });
    });
}
