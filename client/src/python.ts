// The interpreter selected in the Python extension (ms-python.python), when it is installed.
import { PythonExtension } from '@vscode/python-extension';
import * as vscode from 'vscode';

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
