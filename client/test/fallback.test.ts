import assert from 'node:assert/strict';
import * as path from 'node:path';
import { describe, it } from 'node:test';

import { findNewerPython, newerEnvironments } from '../src/fallback';
import { fallbackCandidates, installAdvice } from '../src/interpreter';
import { effectiveStrategy } from '../src/launch';
import type { Verdict } from '../src/probe';
import type { FileChecks, RestrictedContext } from '../src/trust';

function files(executables: readonly string[]): FileChecks {
    const known = new Set(executables);
    return { realpath: (file) => (known.has(file) ? file : path.dirname(file)), isExecutable: (file) => known.has(file) };
}

function context(pathVariable: string, executables: readonly string[]): RestrictedContext {
    return { workspaceFolders: ['/work/project'], userHome: '/home/ada', pathVariable, files: files(executables) };
}

const ok = (python: string): Verdict => ({ kind: 'ok', python, torchmode: '0.1.0', location: '/ext/bundled/libs/torchmode' });
const old: Verdict = { kind: 'old-python', python: '3.9.18', executable: '/usr/bin/python3' };

describe('fallbackCandidates', () => {
    it('tries python3.14 down to python3.11 on Linux and macOS', () => {
        for (const platform of ['linux', 'darwin'] as const) {
            assert.deepEqual(
                fallbackCandidates(platform).map((candidate) => [...candidate.names, ...candidate.args].join(' ')),
                ['python3.14', 'python3.13', 'python3.12', 'python3.11'],
            );
        }
    });

    it("tries the Store's python3.1x.exe and the py launcher on Windows, newest first", () => {
        const commands = fallbackCandidates('win32').map((candidate) => [...candidate.names, ...candidate.args].join(' '));
        assert.deepEqual(commands.slice(0, 4), ['python3.14.exe', 'py.exe -3.14', 'python3.13.exe', 'py.exe -3.13']);
        assert.equal(commands.at(-1), 'py.exe -3.11');
    });
});

describe('installAdvice', () => {
    it('names the version and the way to install it on each platform', () => {
        assert.match(installAdvice('linux'), /^Install Python 3\.12 \(any of 3\.11, 3\.12, 3\.13, 3\.14 works\) with `sudo apt install python3\.12`/);
        assert.match(installAdvice('darwin'), /`brew install python@3\.12`/);
        assert.match(installAdvice('win32'), /`winget install Python\.Python\.3\.12`/);
        assert.match(installAdvice('linux'), /set torchmode\.interpreter to it\.$/);
    });
});

describe('findNewerPython', () => {
    it('takes the newest candidate on the PATH that the probe accepts', async () => {
        const probed: string[][] = [];
        const search = await findNewerPython('linux', context('/usr/bin:/usr/local/bin', ['/usr/local/bin/python3.13', '/usr/bin/python3.12']), (command) => {
            probed.push(command);
            return Promise.resolve(command[0] === '/usr/local/bin/python3.13' ? { ...old, python: '3.13.0' } : ok('3.12.1'));
        });
        // 3.13's probe failed (a stand-in for any rejection), so 3.12 it is.
        assert.deepEqual(probed, [['/usr/local/bin/python3.13'], ['/usr/bin/python3.12']]);
        assert.deepEqual(search.found?.interpreter, { command: ['/usr/bin/python3.12'], source: 'fallback' });
        assert.match(search.notes.join('\n'), /tried \/usr\/local\/bin\/python3\.13: /);
    });

    it('never runs a Python inside the workspace folders', async () => {
        const probed: string[][] = [];
        const search = await findNewerPython('linux', context('/work/project/.venv/bin', ['/work/project/.venv/bin/python3.12']), (command) => {
            probed.push(command);
            return Promise.resolve(ok('3.12.1'));
        });
        assert.deepEqual(probed, []);
        assert.equal(search.found, undefined);
        assert.match(search.notes.join('\n'), /skipped \/work\/project\/\.venv\/bin\/python3\.12: it is inside the workspace folder/);
    });

    it("uses the Windows launcher with the version's argument", async () => {
        // A POSIX-style folder: the tests' path module is the host's; the arguments are the point.
        const launcher = '/c/Windows/py.exe';
        const search = await findNewerPython('win32', context('/c/Windows', [launcher]), (command) =>
            Promise.resolve(command.join(' ') === `${launcher} -3.13` ? ok('3.13.0') : old),
        );
        assert.deepEqual(search.found?.interpreter.command, [launcher, '-3.13']);
    });

    it("tries the Python extension's environments after the PATH", async () => {
        const probed: string[][] = [];
        const search = await findNewerPython(
            'linux',
            context('/usr/bin', ['/usr/bin/python3.11']),
            (command) => {
                probed.push(command);
                return Promise.resolve(command[0] === '/usr/bin/python3.11' ? old : ok('3.12.1'));
            },
            ['/opt/conda/envs/new/bin/python', '/usr/bin/python3.11'],
        );
        // The PATH's python3.11 is not probed twice for being an environment too.
        assert.deepEqual(probed, [['/usr/bin/python3.11'], ['/opt/conda/envs/new/bin/python']]);
        assert.deepEqual(search.found?.interpreter.command, ['/opt/conda/envs/new/bin/python']);
    });

    it('finds nothing when nothing is installed', async () => {
        const search = await findNewerPython('linux', context('/usr/bin', ['/usr/bin/python3']), () => Promise.resolve(ok('3.12.1')));
        assert.equal(search.found, undefined);
    });
});

describe('newerEnvironments', () => {
    it('keeps Python 3.11 and newer, newest first, each executable once', () => {
        const environment = (executable: string | undefined, major: number | undefined, minor: number | undefined) => ({ executable, major, minor });
        assert.deepEqual(
            newerEnvironments([
                environment('/envs/py39/bin/python', 3, 9),
                environment('/envs/py311/bin/python', 3, 11),
                environment('/envs/py313/bin/python', 3, 13),
                environment('/envs/unknown/bin/python', undefined, undefined),
                environment(undefined, 3, 12),
                environment('/envs/py313/bin/python', 3, 13),
                environment('/envs/py4/bin/python', 4, 0),
            ]),
            ['/envs/py4/bin/python', '/envs/py313/bin/python', '/envs/py311/bin/python'],
        );
    });
});

describe('effectiveStrategy', () => {
    it('uses the environment when the package bundles no server (universal)', () => {
        const { strategy, note } = effectiveStrategy('useBundled', false);
        assert.equal(strategy, 'fromEnvironment');
        assert.match(note ?? '', /universal/);
    });

    it('keeps the setting when the bundle is there or not wanted', () => {
        assert.deepEqual(effectiveStrategy('useBundled', true), { strategy: 'useBundled' });
        assert.deepEqual(effectiveStrategy('fromEnvironment', false), { strategy: 'fromEnvironment' });
    });
});
