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
        'import json, sys\n\ndef main(argv):\n' +
            '    print(json.dumps({"argv": argv, "path0": sys.path[0], "path": sys.path, "site": "site" in sys.modules, "isolated": sys.flags.isolated}))\n' +
            '    return 7\n',
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
        const seen = JSON.parse(outcome.stdout.trim()) as { argv: string[]; path0: string; isolated: number };
        assert.deepEqual(seen.argv, ['--stdio']);
        assert.equal(seen.path0, path.join(working, 'bundled', 'libs'));
        assert.equal(seen.isolated, 0);
    });
});

/** A hostile workspace: its own torchmode and sitecustomize, and a venv whose .pth file runs code. */
function hostileWorkspace(marker: string): { root: string; venvPython: string | undefined } {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'torchmode-workspace-'));
    const record = (what: string): string => `open(${JSON.stringify(marker)}, "a").write(${JSON.stringify(`${what}\n`)})\n`;
    write(root, 'torchmode/__init__.py', `${record('workspace torchmode')}__version__ = "6.6.6-workspace"\n`);
    write(root, 'sitecustomize.py', record('workspace sitecustomize'));
    let venvPython: string | undefined;
    try {
        execFileSync(python, ['-m', 'venv', '--without-pip', path.join(root, '.venv')], { stdio: 'ignore' });
        venvPython = path.join(root, '.venv', process.platform === 'win32' ? 'Scripts' : 'bin', process.platform === 'win32' ? 'python.exe' : 'python');
        const sitePackages = execFileSync(venvPython, ['-c', 'import sysconfig; print(sysconfig.get_paths()["purelib"])'], { encoding: 'utf8' }).trim();
        fs.writeFileSync(path.join(sitePackages, 'hostile.pth'), `import builtins; ${record('venv .pth').trim()}\n`);
    } catch {
        venvPython = undefined; // no venv module here (Debian without python3-venv)
    }
    return { root, venvPython };
}

describe('the Python launcher in restricted mode', () => {
    let working = '';
    let workspace = { root: '', venvPython: undefined as string | undefined };
    let marker = '';
    before(() => {
        working = fakeExtension(true);
        marker = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'torchmode-marker-')), 'ran.txt');
        workspace = hostileWorkspace(marker);
    });
    after(() => {
        fs.rmSync(working, { recursive: true, force: true });
        fs.rmSync(workspace.root, { recursive: true, force: true });
        fs.rmSync(path.dirname(marker), { recursive: true, force: true });
    });
    const ran = (): string => (fs.existsSync(marker) ? fs.readFileSync(marker, 'utf8') : '');
    // What the workspace may set in the environment: its folder on PYTHONPATH.
    const hostileEnv = (): NodeJS.ProcessEnv => ({ ...process.env, PYTHONPATH: workspace.root });

    it('a normal launch runs the workspace\'s sitecustomize from PYTHONPATH (what restricted mode prevents)', async () => {
        fs.rmSync(marker, { force: true });
        const probe = probeLaunch([python], 'fromEnvironment', working, hostileEnv());
        await runProcess(probe.command, probe.args, { env: probe.env, cwd: workspace.root });
        assert.match(ran(), /workspace sitecustomize/);
    });

    it('runs none of the workspace\'s code and finds only the bundled torchmode, even from the workspace directory', async () => {
        fs.rmSync(marker, { force: true });
        const probe = probeLaunch([python], 'fromEnvironment', working, hostileEnv(), { restricted: true });
        const outcome = await runProcess(probe.command, probe.args, { env: probe.env, cwd: workspace.root });
        const verdict = judgeProbe(outcome, 'useBundled', python, path.join(working, 'bundled', 'libs'));
        assert.equal(verdict.kind, 'ok', explainVerdict(verdict));
        assert.equal(verdict.torchmode, '9.9.9-fake');
        assert.equal(ran(), '');
    });

    it('starts the server isolated, without site, with the bundled libraries first and nothing of the workspace', async () => {
        fs.rmSync(marker, { force: true });
        const launch = serverLaunch([python], 'useBundled', working, hostileEnv(), { restricted: true });
        const outcome = await runProcess(launch.command, launch.args, { env: launch.env, cwd: workspace.root });
        assert.equal(outcome.exitCode, 7, outcome.stderr);
        const seen = JSON.parse(outcome.stdout.trim()) as { path0: string; path: string[]; site: boolean; isolated: number };
        assert.equal(seen.path0, path.join(working, 'bundled', 'libs'));
        assert.equal(seen.isolated, 1);
        assert.equal(seen.site, false);
        assert.deepEqual(seen.path.filter((entry) => entry === '' || entry.includes('site-packages') || entry.startsWith(workspace.root)), []);
        assert.equal(ran(), '');
    });

    it('even a workspace venv\'s interpreter would run no .pth file (the interpreter choice rejects it anyway)', async (context) => {
        if (workspace.venvPython === undefined) {
            context.skip('python3 -m venv is not available');
            return;
        }
        fs.rmSync(marker, { force: true });
        const normal = probeLaunch([workspace.venvPython], 'useBundled', working, process.env);
        await runProcess(normal.command, normal.args, { env: normal.env });
        assert.match(ran(), /venv \.pth/, 'the .pth file runs in a normal launch: the test can see it');
        fs.rmSync(marker, { force: true });
        const probe = probeLaunch([workspace.venvPython], 'useBundled', working, process.env, { restricted: true });
        const verdict = judgeProbe(await runProcess(probe.command, probe.args, { env: probe.env }), 'useBundled', workspace.venvPython);
        assert.equal(verdict.kind, 'ok', explainVerdict(verdict));
        assert.equal(ran(), '');
    });
});
