// Which Python runs the server. No `vscode` import here, so the node tests can run it.

/** `user-setting` and `path` are restricted mode's (trust.ts): the user's own setting, the PATH outside the workspace. */
export type InterpreterSource = 'setting' | 'python-extension' | 'default' | 'user-setting' | 'path';

export interface Interpreter {
    /** The executable followed by its own arguments, e.g. `["/opt/venv/bin/python", "-X", "utf8"]`. */
    command: string[];
    source: InterpreterSource;
}

export const DEFAULT_INTERPRETER = 'python3';

export interface Placeholders {
    workspaceFolder?: string;
    userHome: string;
}

/** Expands `${workspaceFolder}`, `${userHome}` and a leading `~` the way users write them in settings. */
export function expandPlaceholders(part: string, placeholders: Placeholders): string {
    let result = part.replace(/\$\{userHome\}/g, placeholders.userHome);
    if (placeholders.workspaceFolder !== undefined) {
        result = result.replace(/\$\{workspaceFolder\}/g, placeholders.workspaceFolder);
    }
    if (result === '~' || result.startsWith('~/')) {
        result = placeholders.userHome + result.slice(1);
    }
    return result;
}

/**
 * The `torchmode.interpreter` setting wins; then the environment selected in the Python extension;
 * then `python3` from the PATH.
 */
export function chooseInterpreter(
    setting: readonly string[],
    fromPythonExtension: readonly string[] | undefined,
    placeholders: Placeholders,
): Interpreter {
    if (setting.length > 0) {
        return { command: setting.map((part) => expandPlaceholders(part, placeholders)), source: 'setting' };
    }
    if (fromPythonExtension !== undefined && fromPythonExtension.length > 0) {
        return { command: [...fromPythonExtension], source: 'python-extension' };
    }
    return { command: [DEFAULT_INTERPRETER], source: 'default' };
}

export function describeInterpreter(interpreter: Interpreter): string {
    const origin = {
        setting: 'from the torchmode.interpreter setting',
        'python-extension': 'selected in the Python extension',
        default: 'the default, found on the PATH',
        'user-setting': 'from torchmode.interpreter in the user settings',
        path: 'found on the PATH outside the workspace',
    }[interpreter.source];
    return `${interpreter.command.join(' ')} (${origin})`;
}
