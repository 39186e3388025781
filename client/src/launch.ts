// How to run the server and the pre-flight probe. No `vscode` import here, so the node tests can run it.
import * as path from 'node:path';

import type { ImportStrategy } from './settings';

export interface Launch {
    command: string;
    args: string[];
    env: Record<string, string | undefined>;
}

export const MINIMUM_PYTHON: readonly [number, number] = [3, 11];

export function launcherScript(extensionPath: string): string {
    return path.join(extensionPath, 'client', 'python', 'launch.py');
}

export function bundledLibs(extensionPath: string): string {
    return path.join(extensionPath, 'bundled', 'libs');
}

function launch(
    interpreter: readonly string[],
    strategy: ImportStrategy,
    extensionPath: string,
    baseEnv: Readonly<Record<string, string | undefined>>,
    mode: string,
): Launch {
    const [command, ...interpreterArgs] = interpreter;
    if (command === undefined) {
        throw new Error('the interpreter command is empty');
    }
    return {
        command,
        args: [...interpreterArgs, launcherScript(extensionPath), mode],
        env: {
            ...baseEnv,
            TORCHMODE_IMPORT_STRATEGY: strategy,
            TORCHMODE_BUNDLED_LIBS: bundledLibs(extensionPath),
            // The server speaks UTF-8 JSON on stdio whatever the user's locale is.
            PYTHONIOENCODING: 'utf-8',
        },
    };
}

/** The language server on stdio. */
export function serverLaunch(
    interpreter: readonly string[],
    strategy: ImportStrategy,
    extensionPath: string,
    baseEnv: Readonly<Record<string, string | undefined>>,
): Launch {
    return launch(interpreter, strategy, extensionPath, baseEnv, '--stdio');
}

/** A quick run that reports the Python version and whether torchmode can be imported, as JSON. */
export function probeLaunch(
    interpreter: readonly string[],
    strategy: ImportStrategy,
    extensionPath: string,
    baseEnv: Readonly<Record<string, string | undefined>>,
): Launch {
    return launch(interpreter, strategy, extensionPath, baseEnv, '--probe');
}

/** The command that installs torchmode into the user's environment (for `fromEnvironment`). */
export function pipInstall(interpreter: readonly string[]): { command: string; args: string[] } {
    const [command, ...interpreterArgs] = interpreter;
    if (command === undefined) {
        throw new Error('the interpreter command is empty');
    }
    return { command, args: [...interpreterArgs, '-m', 'pip', 'install', '--upgrade', 'torchmode'] };
}
