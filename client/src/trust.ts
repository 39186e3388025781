// Restricted mode (an untrusted workspace): which Python may run the server and which settings
// count. No `vscode` import here, so the node tests can run it.
//
// A workspace's own interpreter runs that environment's `.pth` files and `sitecustomize` at start-up,
// and a torchmode installed there is the workspace's code: in restricted mode the server is the
// bundled copy, run by an interpreter outside every workspace folder (the user's own
// torchmode.interpreter setting, or python3 from the PATH), in isolated mode (launch.ts).
import * as fs from 'node:fs';
import * as path from 'node:path';

import { chooseInterpreter, DEFAULT_INTERPRETER, expandPlaceholders, type Interpreter } from './interpreter';
import type { ClientSettings, ImportStrategy, SettingsSource } from './settings';

export type TrustMode = 'trusted' | 'restricted';

/** The settings that choose what runs; package.json lists them as restrictedConfigurations. */
export const RESTRICTED_SETTING_KEYS = ['interpreter', 'importStrategy'] as const;

/** What the file checks need of the file system; the tests pass their own. */
export interface FileChecks {
    /** The path with symbolic links resolved, or `undefined` if it does not exist. */
    realpath(file: string): string | undefined;
    /** A regular file this process may execute. */
    isExecutable(file: string): boolean;
}

export const realFiles: FileChecks = {
    realpath(file) {
        try {
            return fs.realpathSync.native(file);
        } catch {
            return undefined;
        }
    },
    isExecutable(file) {
        try {
            fs.accessSync(file, fs.constants.X_OK);
            return fs.statSync(file).isFile();
        } catch {
            return false;
        }
    },
};

/** The part of `WorkspaceConfiguration.inspect()` that says what the user (not the workspace) set. */
export interface InspectedSetting {
    defaultValue?: unknown;
    globalValue?: unknown;
}

/**
 * Settings as the user and the defaults give them, never the workspace's. VS Code already drops a
 * restricted setting's workspace and folder values in restricted mode (they are not in what `get`
 * and `inspect` return); reading the user level by name keeps that true in editors that do not.
 */
export function userLevelSettings(inspect: (key: string) => InspectedSetting | undefined): SettingsSource {
    return {
        get(key) {
            const inspected = inspect(key);
            return inspected?.globalValue ?? inspected?.defaultValue;
        },
    };
}

/** `file` is `folder` or lies inside it (paths as given: no links resolved). */
export function isWithin(folder: string, file: string): boolean {
    const relative = path.relative(folder, file);
    return relative === '' || (relative !== '..' && !relative.startsWith(`..${path.sep}`) && !path.isAbsolute(relative));
}

/** The workspace folder `file` is in, as written or once its links are resolved; `undefined` if none. */
export function workspaceFolderOf(file: string, folders: readonly string[], files: FileChecks): string | undefined {
    const absolute = path.resolve(file);
    const candidates = [absolute, files.realpath(absolute)].filter((name): name is string => name !== undefined);
    return folders.find((folder) => {
        const roots = [path.resolve(folder), files.realpath(folder)].filter((name): name is string => name !== undefined);
        return roots.some((root) => candidates.some((candidate) => isWithin(root, candidate)));
    });
}

export interface RestrictedContext {
    workspaceFolders: readonly string[];
    userHome: string;
    /** The PATH the server would be started with. */
    pathVariable: string | undefined;
    files: FileChecks;
    /** The names tried on the PATH; by default `python3` (`python3.exe`, `python.exe` on Windows). */
    pythonNames?: readonly string[];
}

function defaultPythonNames(): string[] {
    return process.platform === 'win32' ? ['python3.exe', 'python.exe'] : [DEFAULT_INTERPRETER];
}

/**
 * The first of `names` on the PATH that is outside every workspace folder. Relative PATH entries
 * (`.`, an empty entry) depend on the working directory and are never searched.
 */
export function findOnPath(names: readonly string[], context: RestrictedContext, notes: string[]): string | undefined {
    for (const entry of (context.pathVariable ?? '').split(path.delimiter)) {
        if (entry === '') {
            continue;
        }
        if (!path.isAbsolute(entry)) {
            notes.push(`skipped the relative PATH entry ${JSON.stringify(entry)}`);
            continue;
        }
        for (const name of names) {
            const candidate = path.join(entry, name);
            if (!context.files.isExecutable(candidate)) {
                continue;
            }
            const folder = workspaceFolderOf(candidate, context.workspaceFolders, context.files);
            if (folder !== undefined) {
                notes.push(`skipped ${candidate}: it is inside the workspace folder ${folder}`);
                continue;
            }
            return candidate;
        }
    }
    return undefined;
}

export type RestrictedInterpreter =
    | { kind: 'ok'; interpreter: Interpreter; notes: string[] }
    | { kind: 'none'; reason: string; notes: string[] };

/**
 * The interpreter for restricted mode: the user-level torchmode.interpreter unless it lies in a
 * workspace folder, else python3 from the PATH outside the workspace folders. Never the Python
 * extension's choice: that is the workspace's selection.
 */
export function chooseRestrictedInterpreter(userSetting: readonly string[], context: RestrictedContext): RestrictedInterpreter {
    const notes: string[] = [];
    if (userSetting.length > 0) {
        const [executable = '', ...args] = userSetting.map((part) =>
            expandPlaceholders(part, { userHome: context.userHome, workspaceFolder: context.workspaceFolders[0] }),
        );
        const ignored = `ignored torchmode.interpreter from the user settings in restricted mode`;
        if (!executable.includes('/') && !executable.includes('\\')) {
            const found = findOnPath([executable], context, notes);
            if (found !== undefined) {
                return { kind: 'ok', interpreter: { command: [found, ...args], source: 'user-setting' }, notes };
            }
            notes.push(`${ignored}: no ${executable} on the PATH outside the workspace folders`);
        } else if (!path.isAbsolute(executable)) {
            notes.push(`${ignored}: ${executable} is a relative path`);
        } else {
            const folder = workspaceFolderOf(executable, context.workspaceFolders, context.files);
            if (folder === undefined) {
                return { kind: 'ok', interpreter: { command: [executable, ...args], source: 'user-setting' }, notes };
            }
            notes.push(`${ignored}: ${executable} is inside the workspace folder ${folder}`);
        }
    }
    const names = context.pythonNames ?? defaultPythonNames();
    const found = findOnPath(names, context, notes);
    if (found !== undefined) {
        return { kind: 'ok', interpreter: { command: [found], source: 'path' }, notes };
    }
    return {
        kind: 'none',
        reason: `no ${names.join(' or ')} on the PATH outside the workspace folders`,
        notes,
    };
}

export interface LaunchInputs {
    trusted: boolean;
    /** The settings as VS Code resolves them for the workspace (used when it is trusted). */
    settings: ClientSettings;
    /** The user-level settings only (used in restricted mode). */
    userSettings: ClientSettings;
    /** The Python extension's active interpreter (asked for only when the workspace is trusted). */
    fromPythonExtension: readonly string[] | undefined;
    context: RestrictedContext;
}

export type LaunchDecision =
    | { kind: 'ok'; mode: TrustMode; interpreter: Interpreter; importStrategy: ImportStrategy; notes: string[] }
    | { kind: 'none'; mode: 'restricted'; reason: string; notes: string[] };

/** How the server is started: as always in a trusted workspace, isolated and bundled otherwise. */
export function decideLaunch(inputs: LaunchInputs): LaunchDecision {
    if (inputs.trusted) {
        const interpreter = chooseInterpreter(inputs.settings.interpreter, inputs.fromPythonExtension, {
            workspaceFolder: inputs.context.workspaceFolders[0],
            userHome: inputs.context.userHome,
        });
        return { kind: 'ok', mode: 'trusted', interpreter, importStrategy: inputs.settings.importStrategy, notes: [] };
    }
    const choice = chooseRestrictedInterpreter(inputs.userSettings.interpreter, inputs.context);
    const notes = [...choice.notes];
    if (inputs.userSettings.importStrategy !== 'useBundled') {
        notes.push(`torchmode.importStrategy ${inputs.userSettings.importStrategy} does not apply in restricted mode: the bundled server runs`);
    }
    if (choice.kind === 'none') {
        return { kind: 'none', mode: 'restricted', reason: choice.reason, notes };
    }
    return { kind: 'ok', mode: 'restricted', interpreter: choice.interpreter, importStrategy: 'useBundled', notes };
}
