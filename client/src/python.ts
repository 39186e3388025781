// The interpreter selected in the Python extension (ms-python.python), when it is installed.
import { PythonExtension } from '@vscode/python-extension';
import * as vscode from 'vscode';

import type { KnownEnvironment } from './fallback';

export type Log = (message: string) => void;

async function pythonApi(): Promise<PythonExtension | undefined> {
    if (vscode.extensions.getExtension('ms-python.python') === undefined) {
        return undefined;
    }
    return PythonExtension.api();
}

/** The active environment's executable for `resource`, or `undefined` without the Python extension. */
export async function selectedInterpreter(resource: vscode.Uri | undefined, log: Log): Promise<string[] | undefined> {
    try {
        const api = await pythonApi();
        if (api === undefined) {
            return undefined;
        }
        const environment = await api.environments.resolveEnvironment(api.environments.getActiveEnvironmentPath(resource));
        const executable = environment?.executable.uri?.fsPath;
        return executable !== undefined ? [executable] : undefined;
    } catch (error) {
        log(`could not ask the Python extension for the interpreter: ${String(error)}`);
        return undefined;
    }
}

/** The environments the Python extension has discovered, for the search for a Python 3.11+. */
export async function knownEnvironments(log: Log): Promise<KnownEnvironment[]> {
    try {
        const api = await pythonApi();
        return (api?.environments.known ?? []).map((environment) => ({
            executable: environment.executable.uri?.fsPath,
            major: environment.version?.major,
            minor: environment.version?.minor,
        }));
    } catch (error) {
        log(`could not ask the Python extension for its environments: ${String(error)}`);
        return [];
    }
}

/** Calls `listener` whenever the user selects another environment in the Python extension. */
export async function onInterpreterChange(listener: () => void, log: Log): Promise<vscode.Disposable> {
    try {
        const api = await pythonApi();
        if (api !== undefined) {
            return api.environments.onDidChangeActiveEnvironmentPath(() => listener());
        }
    } catch (error) {
        log(`could not follow the Python extension's interpreter: ${String(error)}`);
    }
    return new vscode.Disposable(() => undefined);
}
