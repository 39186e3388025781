// Which Python runs the server. No `vscode` import here, so the node tests can run it.

/** `user-setting` and `path` are restricted mode's (trust.ts): the user's own setting, the PATH outside the workspace. */
/** `fallback`: found on the PATH or among the Python extension's environments, the chosen one being older than 3.11. */
export type InterpreterSource = 'setting' | 'python-extension' | 'default' | 'user-setting' | 'path' | 'fallback';

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
        fallback: 'found by torchmode, as the chosen interpreter is older than 3.11',
    }[interpreter.source];
    return `${interpreter.command.join(' ')} (${origin})`;
}

/** The Python versions the platform packages carry libcst's parser for, newest first. */
export const SUPPORTED_PYTHONS: readonly string[] = ['3.14', '3.13', '3.12', '3.11'];

/** Another interpreter to try when the chosen one is too old: found on the PATH by `names`. */
export interface FallbackCandidate {
    /** Executable names to look up on the PATH, in order. */
    names: string[];
    /** Arguments that select the version, e.g. the Windows launcher's `-3.12`. */
    args: string[];
}

/**
 * Where a Python 3.11+ usually is when the workspace's environment is older: `python3.1x` on
 * Linux and macOS (distributions, Homebrew, deadsnakes, pyenv's shims); on Windows the Microsoft
 * Store's `python3.1x.exe` and the python.org launcher `py -3.1x`.
 */
export function fallbackCandidates(platform: NodeJS.Platform): FallbackCandidate[] {
    if (platform === 'win32') {
        return SUPPORTED_PYTHONS.flatMap((version) => [
            { names: [`python${version}.exe`], args: [] },
            { names: ['py.exe'], args: [`-${version}`] },
        ]);
    }
    return SUPPORTED_PYTHONS.map((version) => ({ names: [`python${version}`], args: [] }));
}

/** Exactly what to install, in the words of the platform's usual package managers. */
export function installAdvice(platform: NodeJS.Platform): string {
    const ways =
        platform === 'win32'
            ? '`winget install Python.Python.3.12` or the installer from python.org'
            : platform === 'darwin'
              ? '`brew install python@3.12` or the installer from python.org'
              : '`sudo apt install python3.12` or `sudo dnf install python3.12` where your distribution has it, ' +
                '`uv python install 3.12`, or `conda create -n py312 python=3.12`';
    return `Install Python 3.12 (any of ${SUPPORTED_PYTHONS.slice().reverse().join(', ')} works) with ${ways}; torchmode then finds it on the PATH, or set torchmode.interpreter to it.`;
}
