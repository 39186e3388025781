import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { needsRestart, readClientSettings, readServerSettings, type SettingsSource } from '../src/settings';

function source(values: Record<string, unknown>): SettingsSource {
    return { get: (key: string): unknown => values[key] };
}

describe('readServerSettings', () => {
    it('gives the defaults for an empty configuration', () => {
        assert.deepEqual(readServerSettings(source({})), {
            select: null,
            ignore: [],
            severity: {},
            minSeverity: 'warning',
            run: 'onType',
            debounceMs: 150,
            fixNoGradWith: 'no_grad',
            inlayHints: true,
            diagnosticMode: 'openFilesOnly',
        });
    });

    it('treats an empty select list as no preference, not as "report nothing"', () => {
        assert.equal(readServerSettings(source({ select: [] })).select, null);
        assert.deepEqual(readServerSettings(source({ select: [' TM1 ', '', 'TM301'] })).select, ['TM1', 'TM301']);
    });

    it('accepts a single code written as a string', () => {
        assert.deepEqual(readServerSettings(source({ ignore: 'TM204' })).ignore, ['TM204']);
    });

    it('keeps only valid severities, normalising their spelling', () => {
        const settings = readServerSettings(source({ severity: { tm204: 'Hint', TM101: 'fatal', TM201: 3, ' ': 'error' } }));
        assert.deepEqual(settings.severity, { TM204: 'hint' });
    });

    it('falls back to the default for values outside the enums', () => {
        const settings = readServerSettings(source({ run: 'onIdle', fixNoGradWith: 'torch.no_grad' }));
        assert.equal(settings.run, 'onType');
        assert.equal(settings.fixNoGradWith, 'no_grad');
        const chosen = readServerSettings(source({ run: 'onSave', fixNoGradWith: 'inference_mode' }));
        assert.equal(chosen.run, 'onSave');
        assert.equal(chosen.fixNoGradWith, 'inference_mode');
    });

    it('takes the least level shown from the enum, warning otherwise', () => {
        assert.equal(readServerSettings(source({ minSeverity: 'hint' })).minSeverity, 'hint');
        assert.equal(readServerSettings(source({ minSeverity: 'loud' })).minSeverity, 'warning');
    });

    it('rounds and bounds the debounce delay', () => {
        assert.equal(readServerSettings(source({ debounceMs: 42.6 })).debounceMs, 43);
        assert.equal(readServerSettings(source({ debounceMs: -5 })).debounceMs, 0);
        assert.equal(readServerSettings(source({ debounceMs: 1e9 })).debounceMs, 10_000);
        assert.equal(readServerSettings(source({ debounceMs: '300' })).debounceMs, 150);
    });

    it('turns inlay hints off only when told so with a boolean', () => {
        assert.equal(readServerSettings(source({ inlayHints: false })).inlayHints, false);
        assert.equal(readServerSettings(source({ inlayHints: true })).inlayHints, true);
        assert.equal(readServerSettings(source({ inlayHints: 'false' })).inlayHints, true);
    });

    it('takes the diagnostic mode from its enum, open files only otherwise', () => {
        assert.equal(readServerSettings(source({ diagnosticMode: 'workspace' })).diagnosticMode, 'workspace');
        assert.equal(readServerSettings(source({ diagnosticMode: 'everything' })).diagnosticMode, 'openFilesOnly');
    });

    it('sends the server exactly the keys it knows', () => {
        const settings = readServerSettings(source({ interpreter: ['python'], importStrategy: 'fromEnvironment' }));
        assert.deepEqual(Object.keys(settings).sort(), [
            'debounceMs',
            'diagnosticMode',
            'fixNoGradWith',
            'ignore',
            'inlayHints',
            'minSeverity',
            'run',
            'select',
            'severity',
        ]);
    });
});

describe('readClientSettings', () => {
    it('defaults to the bundled server and no interpreter override', () => {
        assert.deepEqual(readClientSettings(source({})), { interpreter: [], importStrategy: 'useBundled' });
    });

    it('reads the interpreter command and the import strategy', () => {
        assert.deepEqual(readClientSettings(source({ interpreter: ['/opt/py/bin/python', '-X', 'utf8'], importStrategy: 'fromEnvironment' })), {
            interpreter: ['/opt/py/bin/python', '-X', 'utf8'],
            importStrategy: 'fromEnvironment',
        });
    });
});

describe('needsRestart', () => {
    const changed = (...sections: string[]) => (section: string) => sections.includes(section);

    it('restarts for server settings and for how the server is started', () => {
        assert.equal(needsRestart(changed('torchmode.severity')), true);
        assert.equal(needsRestart(changed('torchmode.interpreter')), true);
        assert.equal(needsRestart(changed('torchmode.importStrategy')), true);
    });

    it('does not restart for the trace level or for other extensions', () => {
        assert.equal(needsRestart(changed('torchmode.trace.server')), false);
        assert.equal(needsRestart(changed('python.defaultInterpreterPath')), false);
    });
});
