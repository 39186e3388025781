// Runs the real Python launcher (client/python/launch.py) with python3 against a fake bundle.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';

import { probeLaunch, serverLaunch } from '../src/launch';
import { explainVerdict, judgeProbe } from '../src/probe';
import { runProcess } from '../src/processes';

// The tests run from out/test/ (built by esbuild); the repository root is two levels up.
const repositoryRoot = path.resolve(__dirname, '..', '..');
const python = process.env.TORCHMODE_TEST_PYTHON ?? 'python3';
const extensionSuffix = execFileSync(python, ['-c', 'import importlib.machinery as m; print(m.EXTENSION_SUFFIXES[0])'], { encoding: 'utf8' }).trim();

/** A Python older than 3.11 to prove the message it gets: TORCHMODE_TEST_OLD_PYTHON, or pyenv's. */
function oldPython(): string | undefined {
    if (process.env.TORCHMODE_TEST_OLD_PYTHON !== undefined) {
        return process.env.TORCHMODE_TEST_OLD_PYTHON;
    }
    const versions = path.join(process.env.PYENV_ROOT ?? path.join(os.homedir(), '.pyenv'), 'versions');
    const candidates = fs.existsSync(versions) ? fs.readdirSync(versions) : [];
    const old = candidates.filter((name) => /^3\.([6-9]|10)\./.test(name)).sort().reverse();
    return old.map((name) => path.join(versions, name, 'bin', 'python')).find((file) => fs.existsSync(file));
}

function write(root: string, relative: string, text: string): void {
    const file = path.join(root, relative);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, text);
}

/** A fake extension folder: the real launcher plus a `bundled/libs` with stand-in packages. */
function fakeExtension(parserBuilt: boolean): string {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'torchmode-launcher-'));
    write(root, 'client/python/launch.py', fs.readFileSync(path.join(repositoryRoot, 'client', 'python', 'launch.py'), 'utf8'));
    const libs = 'bundled/libs';
    write(root, `${libs}/torchmode/__init__.py`, '__version__ = "9.9.9-fake"\n');
    write(root, `${libs}/torchmode/lsp/__init__.py`, '');
    write(
        root,
        `${libs}/torchmode/lsp/server.py`,
        'import json, sys\n\ndef main(argv):\n    print(json.dumps({"argv": argv, "path0": sys.path[0]}))\n    return 7\n',
    );
    for (const name of ['pygls', 'lsprotocol', 'cattrs', 'libcst']) {
        write(root, `${libs}/${name}/__init__.py`, '');
    }
    // Only the file's name matters to the probe: it must carry this interpreter's suffix.
    write(root, `${libs}/libcst/${parserBuilt ? `native${extensionSuffix}` : 'native.cpython-39-darwin.so'}`, '');
    return root;
}

describe('the Python launcher', () => {
    let working = '';
    let unusable = '';
    before(() => {
        working = fakeExtension(true);
        unusable = fakeExtension(false);
    });
    after(() => {
        fs.rmSync(working, { recursive: true, force: true });
        fs.rmSync(unusable, { recursive: true, force: true });
    });

    it('probes the bundled copy ahead of anything installed', async () => {
        const probe = probeLaunch([python], 'useBundled', working, process.env);
        const verdict = judgeProbe(await runProcess(probe.command, probe.args, { env: probe.env }), 'useBundled', python);
        assert.equal(verdict.kind, 'ok');
        assert.equal(verdict.torchmode, '9.9.9-fake');
        assert.equal(verdict.location, path.join(working, 'bundled', 'libs', 'torchmode'));
    });

    it('reports a bundle whose libcst does not run here', async () => {
        const probe = probeLaunch([python], 'useBundled', unusable, process.env);
        const verdict = judgeProbe(await runProcess(probe.command, probe.args, { env: probe.env }), 'useBundled', python);
        assert.equal(verdict.kind, 'bundle-unusable');
        assert.match(verdict.reason, /^libcst's compiled parser is not built for this Python \(\.cpython-3\d+-.+\.so\); .+ has native\.cpython-39-darwin\.so$/);
    });

    it('reports a torchmode without the language server before looking at libcst', async () => {
        const old = fakeExtension(false);
        try {
            fs.rmSync(path.join(old, 'bundled', 'libs', 'torchmode', 'lsp'), { recursive: true });
            const probe = probeLaunch([python], 'useBundled', old, process.env);
            const verdict = judgeProbe(await runProcess(probe.command, probe.args, { env: probe.env }), 'useBundled', python);
            assert.equal(verdict.kind, 'bundle-unusable');
            assert.equal(verdict.reason, "ModuleNotFoundError: No module named 'torchmode.lsp'");
        } finally {
            fs.rmSync(old, { recursive: true, force: true });
        }
    });

    it('leaves the bundle off sys.path with fromEnvironment', async () => {
        const probe = probeLaunch([python], 'fromEnvironment', working, process.env);
        const outcome = await runProcess(probe.command, probe.args, { env: probe.env });
        assert.doesNotMatch(outcome.stdout, /9\.9\.9-fake/);
    });

    const old = oldPython();
    it('tells a Python older than 3.11 what it needs, in probe and in server mode', { skip: old === undefined && 'no Python < 3.11 here' }, async () => {
        const interpreter = old ?? '';
        const probe = probeLaunch([interpreter], 'useBundled', working, process.env);
        const verdict = judgeProbe(await runProcess(probe.command, probe.args, { env: probe.env }), 'useBundled', interpreter);
        assert.equal(verdict.kind, 'old-python');
        assert.match(explainVerdict(verdict), /^torchmode needs Python 3\.11 or newer; .+ is Python 3\.([6-9]|10)\.\d+$/);

        const launch = serverLaunch([interpreter], 'useBundled', working, process.env);
        const outcome = await runProcess(launch.command, launch.args, { env: launch.env });
        assert.equal(outcome.exitCode, 2);
        assert.match(outcome.stderr, /^torchmode needs Python 3\.11 or newer; .+ is 3\.([6-9]|10)\.\d+\n$/);
        assert.equal(outcome.stdout, '');
    });

    it("starts the server's main with --stdio and passes on its exit code", async () => {
        const launch = serverLaunch([python], 'useBundled', working, process.env);
        const outcome = await runProcess(launch.command, launch.args, { env: launch.env });
        assert.equal(outcome.exitCode, 7);
        assert.deepEqual(JSON.parse(outcome.stdout.trim()), { argv: ['--stdio'], path0: path.join(working, 'bundled', 'libs') });
    });
});
