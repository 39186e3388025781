// How to run the server and the pre-flight probe. No `vscode` import here, so the node tests can run it.
import * as path from 'node:path';

import type { ImportStrategy } from './settings';

export interface Launch {
    command: string;
    args: string[];
    env: Record<string, string | undefined>;
    /** The working directory; `undefined`: the extension host's. */
    cwd?: string;
}

export interface LaunchOptions {
    /** Restricted mode (an untrusted workspace): the bundled server in an isolated Python. */
    restricted?: boolean;
}

/**
 * Restricted mode's interpreter flags. `-I`: no user site-packages, no PYTHON* variables (so no
 * PYTHONPATH, PYTHONSTARTUP, PYTHONHOME), neither the working directory nor the script's
 * directory on sys.path. `-S`: no `site` at all, so no site-packages, no `.pth` files and no
 * `sitecustomize`: the launcher puts the bundled libraries on sys.path itself, and they are all
 * the server imports beside the standard library. `-X utf8` stands in for PYTHONIOENCODING,
 * which `-I` ignores.
 */
export const ISOLATED_FLAGS: readonly string[] = ['-I', '-S', '-X', 'utf8'];

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
    options: LaunchOptions,
): Launch {
    const [command, ...interpreterArgs] = interpreter;
    if (command === undefined) {
        throw new Error('the interpreter command is empty');
    }
    if (options.restricted === true) {
        // PYTHON* variables would be ignored (-I); dropping them keeps what is logged what runs.
        const env = Object.fromEntries(Object.entries(baseEnv).filter(([name]) => !name.toUpperCase().startsWith('PYTHON')));
        return {
            command,
            args: [...interpreterArgs, ...ISOLATED_FLAGS, launcherScript(extensionPath), mode],
            env: {
                ...env,
                // Whatever the settings say: the bundled copy only.
                TORCHMODE_IMPORT_STRATEGY: 'useBundled',
                TORCHMODE_BUNDLED_LIBS: bundledLibs(extensionPath),
            },
            // Not the extension host's directory, which may be the workspace: a pyenv shim there
            // would read the workspace's .python-version.
            cwd: extensionPath,
        };
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

/**
 * The universal package ships no `bundled/libs`: `useBundled` then means the environment's
 * torchmode, said once in the log rather than failing on a bundle that is not there.
 */
export function effectiveStrategy(requested: ImportStrategy, bundleShipped: boolean): { strategy: ImportStrategy; note?: string } {
    if (requested === 'useBundled' && !bundleShipped) {
        return {
            strategy: 'fromEnvironment',
            note: "this torchmode package (universal) bundles no server: using the torchmode installed in the interpreter's environment",
        };
    }
    return { strategy: requested };
}

/** The language server on stdio. */
export function serverLaunch(
    interpreter: readonly string[],
    strategy: ImportStrategy,
    extensionPath: string,
    baseEnv: Readonly<Record<string, string | undefined>>,
    options: LaunchOptions = {},
): Launch {
    return launch(interpreter, strategy, extensionPath, baseEnv, '--stdio', options);
}

/** A quick run that reports the Python version and whether torchmode can be imported, as JSON. */
export function probeLaunch(
    interpreter: readonly string[],
    strategy: ImportStrategy,
    extensionPath: string,
    baseEnv: Readonly<Record<string, string | undefined>>,
    options: LaunchOptions = {},
): Launch {
    return launch(interpreter, strategy, extensionPath, baseEnv, '--probe', options);
}

/** The command that installs torchmode into the user's environment (for `fromEnvironment`). */
export function pipInstall(interpreter: readonly string[]): { command: string; args: string[] } {
    const [command, ...interpreterArgs] = interpreter;
    if (command === undefined) {
        throw new Error('the interpreter command is empty');
    }
    return { command, args: [...interpreterArgs, '-m', 'pip', 'install', '--upgrade', 'torchmode'] };
}
