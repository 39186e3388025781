import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';

import { chooseInterpreter } from '../src/interpreter';
import { RESTART_SETTING_KEYS, readClientSettings, type ClientSettings } from '../src/settings';
import {
    chooseRestrictedInterpreter,
    decideLaunch,
    findOnPath,
    type FileChecks,
    type InspectedSetting,
    isWithin,
    RESTRICTED_SETTING_KEYS,
    type RestrictedContext,
    userLevelSettings,
    workspaceFolderOf,
} from '../src/trust';

/** A file system of executables and symbolic links (link -> target), nothing else. */
function files(executables: readonly string[], links: Record<string, string> = {}): FileChecks {
    const resolve = (file: string): string => {
        for (const [link, target] of Object.entries(links)) {
            if (file === link || file.startsWith(`${link}/`)) {
                return resolve(target + file.slice(link.length));
            }
        }
        return file;
    };
    return {
        realpath: (file) => {
            const real = resolve(file);
            const known = executables.some((name) => name === real || name.startsWith(`${real}/`));
            return known ? real : undefined;
        },
        isExecutable: (file) => executables.includes(resolve(file)),
    };
}

const project = '/work/project';
const venvPython = `${project}/.venv/bin/python3`;

function context(overrides: Partial<RestrictedContext> = {}): RestrictedContext {
    return {
        workspaceFolders: [project],
        userHome: '/home/ada',
        // A shell with the project's venv activated started VS Code: its bin comes first.
        pathVariable: [`${project}/.venv/bin`, '/usr/local/bin', '/usr/bin'].join(path.delimiter),
        files: files([venvPython, '/usr/bin/python3', '/opt/python3.12/bin/python3.12', '/usr/bin/python3.12']),
        pythonNames: ['python3'],
        ...overrides,
    };
}

const defaults: ClientSettings = { interpreter: [], importStrategy: 'useBundled' };

describe('workspaceFolderOf', () => {
    it('finds a file in a folder, and not in a sibling whose name starts the same', () => {
        assert.equal(workspaceFolderOf(venvPython, [project], files([])), project);
        assert.equal(workspaceFolderOf(project, [project], files([])), project);
        assert.equal(workspaceFolderOf('/work/project-tools/bin/python3', [project], files([])), undefined);
        assert.equal(workspaceFolderOf('/work/project/../other/python3', [project], files([])), undefined);
        assert.equal(isWithin('/work/project', '/work/project/..hidden/python3'), true);
    });

    it('follows symbolic links both ways: a link out of the workspace to a file in it, a folder opened through a link', () => {
        const linked = files(['/work/project/.venv/bin/python3', '/srv/real/project/python3'], {
            '/home/ada/bin/python3': venvPython,
            '/work/linked': '/srv/real/project',
        });
        assert.equal(workspaceFolderOf('/home/ada/bin/python3', [project], linked), project);
        assert.equal(workspaceFolderOf('/srv/real/project/python3', ['/work/linked'], linked), '/work/linked');
    });
});

describe('findOnPath', () => {
    it('skips interpreters inside the workspace folders and relative PATH entries', () => {
        const notes: string[] = [];
        const pathVariable = ['.', 'bin', `${project}/.venv/bin`, '/usr/bin'].join(path.delimiter);
        assert.equal(findOnPath(['python3'], context({ pathVariable }), notes), '/usr/bin/python3');
        assert.deepEqual(notes, [
            'skipped the relative PATH entry "."',
            'skipped the relative PATH entry "bin"',
            `skipped ${venvPython}: it is inside the workspace folder ${project}`,
        ]);
    });

    it('finds nothing when every python3 is in the workspace, or there is no PATH', () => {
        assert.equal(findOnPath(['python3'], context({ pathVariable: `${project}/.venv/bin` }), []), undefined);
        assert.equal(findOnPath(['python3'], context({ pathVariable: undefined }), []), undefined);
    });
});

describe('chooseRestrictedInterpreter', () => {
    it('uses python3 from the PATH outside the workspace, never the venv the PATH starts with', () => {
        const choice = chooseRestrictedInterpreter([], context());
        assert.equal(choice.kind, 'ok');
        assert.deepEqual(choice.interpreter, { command: ['/usr/bin/python3'], source: 'path' });
    });

    it('uses the user-level setting, with its arguments, when it is outside the workspace', () => {
        const choice = chooseRestrictedInterpreter(['/opt/python3.12/bin/python3.12', '-X', 'dev'], context());
        assert.deepEqual(choice, {
            kind: 'ok',
            interpreter: { command: ['/opt/python3.12/bin/python3.12', '-X', 'dev'], source: 'user-setting' },
            notes: [],
        });
    });

    it('looks a bare command name up on the PATH outside the workspace', () => {
        const choice = chooseRestrictedInterpreter(['python3.12'], context());
        assert.deepEqual(choice.kind === 'ok' && choice.interpreter, { command: ['/usr/bin/python3.12'], source: 'user-setting' });
    });

    it('rejects a user-level interpreter inside a workspace folder and falls back to the PATH', () => {
        for (const setting of ['${workspaceFolder}/.venv/bin/python3', venvPython, '~/../../work/project/.venv/bin/python3']) {
            const choice = chooseRestrictedInterpreter([setting], context());
            assert.equal(choice.kind, 'ok', setting);
            assert.deepEqual(choice.interpreter.command, ['/usr/bin/python3'], setting);
            assert.match(choice.notes.join('\n'), /ignored torchmode\.interpreter from the user settings in restricted mode: .* is inside the workspace folder \/work\/project/);
        }
    });

    it('rejects a link from outside the workspace to an interpreter inside it', () => {
        const linked = context({ files: files([venvPython, '/usr/bin/python3'], { '/home/ada/bin/python3': venvPython }) });
        const choice = chooseRestrictedInterpreter(['/home/ada/bin/python3'], linked);
        assert.deepEqual(choice.kind === 'ok' && choice.interpreter.command, ['/usr/bin/python3']);
    });

    it('rejects a relative path (it would depend on the working directory)', () => {
        const choice = chooseRestrictedInterpreter(['.venv/bin/python3'], context());
        assert.deepEqual(choice.kind === 'ok' && choice.interpreter.command, ['/usr/bin/python3']);
        assert.match(choice.notes.join('\n'), /\.venv\/bin\/python3 is a relative path/);
    });

    it('says so when no interpreter outside the workspace is left', () => {
        const choice = chooseRestrictedInterpreter([venvPython], context({ pathVariable: `${project}/.venv/bin` }));
        assert.equal(choice.kind, 'none');
        assert.equal(choice.reason, 'no python3 on the PATH outside the workspace folders');
    });
});

describe('userLevelSettings', () => {
    it('reads the user value, else the default, never a workspace or folder value', () => {
        const inspected: Record<string, InspectedSetting & { workspaceValue?: unknown; workspaceFolderValue?: unknown }> = {
            interpreter: { defaultValue: [], workspaceValue: [venvPython], workspaceFolderValue: [venvPython] },
            importStrategy: { defaultValue: 'useBundled', globalValue: 'fromEnvironment', workspaceValue: 'useBundled' },
        };
        const settings = readClientSettings(userLevelSettings((key) => inspected[key]));
        assert.deepEqual(settings, { interpreter: [], importStrategy: 'fromEnvironment' });
        assert.deepEqual(readClientSettings(userLevelSettings(() => undefined)), defaults);
    });
});

describe('decideLaunch', () => {
    // What VS Code resolves in a trusted workspace: the workspace's venv and fromEnvironment.
    const workspaceSettings: ClientSettings = { interpreter: ['${workspaceFolder}/.venv/bin/python3'], importStrategy: 'fromEnvironment' };

    it('untrusted: ignores the workspace settings and the Python extension, and runs the bundled server', () => {
        const decision = decideLaunch({
            trusted: false,
            settings: workspaceSettings,
            userSettings: defaults,
            fromPythonExtension: [venvPython],
            context: context(),
        });
        assert.deepEqual(decision, {
            kind: 'ok',
            mode: 'restricted',
            interpreter: { command: ['/usr/bin/python3'], source: 'path' },
            importStrategy: 'useBundled',
            notes: [`skipped ${venvPython}: it is inside the workspace folder ${project}`],
        });
    });

    it('untrusted: a user-level fromEnvironment does not apply either', () => {
        const decision = decideLaunch({
            trusted: false,
            settings: defaults,
            userSettings: { interpreter: ['/opt/python3.12/bin/python3.12'], importStrategy: 'fromEnvironment' },
            fromPythonExtension: undefined,
            context: context(),
        });
        assert.equal(decision.kind === 'ok' && decision.importStrategy, 'useBundled');
        assert.deepEqual(decision.kind === 'ok' && decision.interpreter.command, ['/opt/python3.12/bin/python3.12']);
        assert.match(decision.notes.join('\n'), /fromEnvironment does not apply in restricted mode/);
    });

    it('untrusted with nothing to run: no interpreter, and the reason', () => {
        const decision = decideLaunch({
            trusted: false,
            settings: defaults,
            userSettings: defaults,
            fromPythonExtension: undefined,
            context: context({ pathVariable: '' }),
        });
        assert.equal(decision.kind, 'none');
    });

    it('trusted: exactly the normal choice (setting, then Python extension, then python3) and strategy', () => {
        const placeholders = { workspaceFolder: project, userHome: '/home/ada' };
        for (const [settings, fromPythonExtension] of [
            [workspaceSettings, ['/opt/conda/bin/python']],
            [defaults, [venvPython]],
            [defaults, undefined],
        ] as const) {
            const decision = decideLaunch({ trusted: true, settings, userSettings: defaults, fromPythonExtension, context: context() });
            assert.deepEqual(decision, {
                kind: 'ok',
                mode: 'trusted',
                interpreter: chooseInterpreter(settings.interpreter, fromPythonExtension, placeholders),
                importStrategy: settings.importStrategy,
                notes: [],
            });
        }
    });
});

describe('package.json', () => {
    // The tests run from out/test/ (built by esbuild); the repository root is two levels up.
    const manifest = JSON.parse(fs.readFileSync(path.resolve(__dirname, '..', '..', 'package.json'), 'utf8')) as {
        capabilities: { untrustedWorkspaces: { supported: unknown; description: unknown; restrictedConfigurations: string[] } };
        contributes: { configuration: { properties: Record<string, unknown> } };
    };
    const untrusted = manifest.capabilities.untrustedWorkspaces;

    it('declares limited support in untrusted workspaces, with a description', () => {
        assert.equal(untrusted.supported, 'limited');
        assert.equal(typeof untrusted.description, 'string');
    });

    it('restricts exactly the settings that choose what runs, all of them contributed and restarting the server', () => {
        assert.deepEqual(untrusted.restrictedConfigurations, RESTRICTED_SETTING_KEYS.map((key) => `torchmode.${key}`));
        const contributed = Object.keys(manifest.contributes.configuration.properties);
        for (const key of RESTRICTED_SETTING_KEYS) {
            assert.ok(contributed.includes(`torchmode.${key}`), key);
            assert.ok((RESTART_SETTING_KEYS as readonly string[]).includes(key), key);
        }
        // A new setting naming an interpreter, a path, a command, arguments or an environment must be restricted too.
        const runs = contributed.filter((key) => /interpreter|path|command|args|env|strategy|executable/i.test(key));
        assert.deepEqual(runs.filter((key) => !untrusted.restrictedConfigurations.includes(key)), []);
    });
});
