import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { explainVerdict, judgeProbe, parseProbe, type ProbeReport } from '../src/probe';

function report(overrides: Partial<ProbeReport>): string {
    return JSON.stringify({ python: [3, 11, 7], executable: '/usr/bin/python3', torchmode: '0.1.0', location: '/x/torchmode', error: null, ...overrides });
}

const ran = (stdout: string) => ({ exitCode: 0, stdout, stderr: '' });

describe('parseProbe', () => {
    it('finds the report after other output', () => {
        const parsed = parseProbe(`sitecustomize says hi\n{"not": "it"}\n${report({})}\n`);
        assert.equal(parsed?.torchmode, '0.1.0');
    });

    it('returns undefined for output that is not a report', () => {
        assert.equal(parseProbe('Python 2.7.18\n'), undefined);
        assert.equal(parseProbe('{broken json\n'), undefined);
    });
});

describe('judgeProbe', () => {
    it('accepts a supported Python with an importable torchmode', () => {
        assert.deepEqual(judgeProbe(ran(report({})), 'useBundled', 'python3'), {
            kind: 'ok',
            python: '3.11.7',
            torchmode: '0.1.0',
            location: '/x/torchmode',
        });
    });

    it('in restricted mode, accepts only the torchmode in the bundled libraries', () => {
        const bundled = judgeProbe(ran(report({ location: '/ext/bundled/libs/torchmode' })), 'useBundled', 'python3', '/ext/bundled/libs');
        assert.equal(bundled.kind, 'ok');
        const elsewhere = judgeProbe(ran(report({ location: '/work/project/torchmode' })), 'useBundled', 'python3', '/ext/bundled/libs');
        assert.equal(elsewhere.kind, 'bundle-unusable');
        assert.match(explainVerdict(elsewhere), /torchmode was found in \/work\/project\/torchmode, not in \/ext\/bundled\/libs; restricted mode runs only the bundled copy/);
    });

    it('rejects Python older than 3.11 with a clear message', () => {
        const verdict = judgeProbe(ran(report({ python: [3, 9, 18], torchmode: null, location: null })), 'useBundled', 'python3');
        assert.equal(verdict.kind, 'old-python');
        assert.equal(explainVerdict(verdict), 'torchmode needs Python 3.11 or newer; /usr/bin/python3 is Python 3.9.18');
    });

    it('accepts newer major and minor versions', () => {
        assert.equal(judgeProbe(ran(report({ python: [3, 14, 0] })), 'useBundled', 'python3').kind, 'ok');
        assert.equal(judgeProbe(ran(report({ python: [4, 0, 0] })), 'useBundled', 'python3').kind, 'ok');
    });

    it('tells a missing torchmode in the environment from an unusable bundle', () => {
        const broken = report({ torchmode: null, location: null, error: "ModuleNotFoundError: No module named 'torchmode'" });
        const missing = judgeProbe(ran(broken), 'fromEnvironment', 'python3');
        assert.equal(missing.kind, 'missing');
        assert.match(explainVerdict(missing), /not installed in \/usr\/bin\/python3.*No module named 'torchmode'/);
        assert.equal(judgeProbe(ran(broken), 'useBundled', 'python3').kind, 'bundle-unusable');
    });

    it('explains an interpreter that cannot be started', () => {
        const verdict = judgeProbe({ spawnError: 'spawn python9 ENOENT', exitCode: null, stdout: '', stderr: '' }, 'useBundled', 'python9');
        assert.deepEqual(verdict, { kind: 'no-python', reason: 'could not run python9: spawn python9 ENOENT' });
    });

    it('quotes the end of stderr when the launcher did not answer', () => {
        const verdict = judgeProbe({ exitCode: 1, stdout: '', stderr: 'Traceback...\nSyntaxError: invalid syntax\n' }, 'useBundled', 'python2');
        assert.equal(verdict.kind, 'no-python');
        assert.match(explainVerdict(verdict), /python2 did not run the torchmode launcher: Traceback\.\.\. SyntaxError: invalid syntax/);
    });
});
