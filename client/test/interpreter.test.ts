import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { chooseInterpreter, describeInterpreter, expandPlaceholders } from '../src/interpreter';

const placeholders = { workspaceFolder: '/work/project', userHome: '/home/ada' };

describe('chooseInterpreter', () => {
    it('prefers the torchmode.interpreter setting over the Python extension', () => {
        const chosen = chooseInterpreter(['${workspaceFolder}/.venv/bin/python', '-X', 'utf8'], ['/usr/bin/python3.12'], placeholders);
        assert.deepEqual(chosen, { command: ['/work/project/.venv/bin/python', '-X', 'utf8'], source: 'setting' });
    });

    it("uses the Python extension's environment when the setting is empty", () => {
        assert.deepEqual(chooseInterpreter([], ['/opt/conda/envs/torch/bin/python'], placeholders), {
            command: ['/opt/conda/envs/torch/bin/python'],
            source: 'python-extension',
        });
    });

    it('falls back to python3 without the setting and without the Python extension', () => {
        assert.deepEqual(chooseInterpreter([], undefined, placeholders), { command: ['python3'], source: 'default' });
        assert.deepEqual(chooseInterpreter([], [], placeholders), { command: ['python3'], source: 'default' });
    });

    it('says where the interpreter came from', () => {
        assert.match(describeInterpreter(chooseInterpreter([], undefined, placeholders)), /^python3 \(the default/);
    });
});

describe('expandPlaceholders', () => {
    it('expands the home directory and the workspace folder', () => {
        assert.equal(expandPlaceholders('~/venvs/torch/bin/python', placeholders), '/home/ada/venvs/torch/bin/python');
        assert.equal(expandPlaceholders('${userHome}/py', placeholders), '/home/ada/py');
        assert.equal(expandPlaceholders('${workspaceFolder}/py', placeholders), '/work/project/py');
    });

    it('leaves a workspace placeholder alone when no folder is open, and a tilde inside a path', () => {
        assert.equal(expandPlaceholders('${workspaceFolder}/py', { userHome: '/home/ada' }), '${workspaceFolder}/py');
        assert.equal(expandPlaceholders('/opt/~x/python', placeholders), '/opt/~x/python');
    });
});
