import assert from 'node:assert/strict';
import * as path from 'node:path';
import { describe, it } from 'node:test';

import { pipInstall, probeLaunch, serverLaunch } from '../src/launch';

const extension = path.join('/ext', 'torchmode-0.1.0');

describe('serverLaunch', () => {
    it('runs the launcher with the interpreter and its own arguments, on stdio', () => {
        const launch = serverLaunch(['/venv/bin/python', '-X', 'utf8'], 'useBundled', extension, { PATH: '/usr/bin' });
        assert.equal(launch.command, '/venv/bin/python');
        assert.deepEqual(launch.args, ['-X', 'utf8', path.join(extension, 'client', 'python', 'launch.py'), '--stdio']);
    });

    it('passes the import strategy and the bundled libraries in the environment, keeping the rest', () => {
        const launch = serverLaunch(['python3'], 'fromEnvironment', extension, { PATH: '/usr/bin', VIRTUAL_ENV: '/venv' });
        assert.equal(launch.env.TORCHMODE_IMPORT_STRATEGY, 'fromEnvironment');
        assert.equal(launch.env.TORCHMODE_BUNDLED_LIBS, path.join(extension, 'bundled', 'libs'));
        assert.equal(launch.env.PYTHONIOENCODING, 'utf-8');
        assert.equal(launch.env.PATH, '/usr/bin');
        assert.equal(launch.env.VIRTUAL_ENV, '/venv');
    });

    it('refuses an empty interpreter command', () => {
        assert.throws(() => serverLaunch([], 'useBundled', extension, {}), /empty/);
    });
});

describe('serverLaunch in restricted mode', () => {
    const hostile = { PATH: '/usr/bin', PYTHONPATH: '/work/project', PYTHONSTARTUP: '/work/project/x.py', PYTHONHOME: '/work/project/.venv', PYTHONIOENCODING: 'latin-1', pythonpath: '/w' };

    it('runs the launcher isolated (-I -S) after the interpreter\'s own arguments', () => {
        const launch = serverLaunch(['/usr/bin/python3', '-X', 'dev'], 'useBundled', extension, hostile, { restricted: true });
        assert.equal(launch.command, '/usr/bin/python3');
        assert.deepEqual(launch.args, ['-X', 'dev', '-I', '-S', '-X', 'utf8', path.join(extension, 'client', 'python', 'launch.py'), '--stdio']);
    });

    it('always uses the bundled libraries, drops PYTHON* variables and starts in the extension folder', () => {
        const launch = serverLaunch(['/usr/bin/python3'], 'fromEnvironment', extension, hostile, { restricted: true });
        assert.deepEqual(launch.env, {
            PATH: '/usr/bin',
            TORCHMODE_IMPORT_STRATEGY: 'useBundled',
            TORCHMODE_BUNDLED_LIBS: path.join(extension, 'bundled', 'libs'),
        });
        assert.equal(launch.cwd, extension);
    });

    it('probes the same way', () => {
        const probe = probeLaunch(['/usr/bin/python3'], 'useBundled', extension, hostile, { restricted: true });
        const server = serverLaunch(['/usr/bin/python3'], 'useBundled', extension, hostile, { restricted: true });
        assert.deepEqual(probe.args.slice(0, -1), server.args.slice(0, -1));
        assert.equal(probe.args.at(-1), '--probe');
        assert.deepEqual(probe.env, server.env);
        assert.equal(probe.cwd, server.cwd);
    });

    it('leaves a trusted launch as it was: no isolation flags, the environment kept, the host\'s directory', () => {
        const launch = serverLaunch(['python3'], 'useBundled', extension, hostile, { restricted: false });
        assert.deepEqual(launch, serverLaunch(['python3'], 'useBundled', extension, hostile));
        assert.ok(!launch.args.includes('-I'));
        assert.equal(launch.env.PYTHONPATH, '/work/project');
        assert.equal(launch.cwd, undefined);
    });
});

describe('probeLaunch and pipInstall', () => {
    it('probes with the same interpreter and environment as the server', () => {
        const probe = probeLaunch(['python3'], 'useBundled', extension, {});
        const server = serverLaunch(['python3'], 'useBundled', extension, {});
        assert.deepEqual(probe.args.slice(0, -1), server.args.slice(0, -1));
        assert.equal(probe.args.at(-1), '--probe');
        assert.deepEqual(probe.env, server.env);
    });

    it('installs with the interpreter\'s own pip', () => {
        assert.deepEqual(pipInstall(['/venv/bin/python', '-E']), {
            command: '/venv/bin/python',
            args: ['-E', '-m', 'pip', 'install', '--upgrade', 'torchmode'],
        });
    });
});
