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
