// The extension's settings as plain data. No `vscode` import here, so the node tests can run it.

export type Severity = 'error' | 'warning' | 'info' | 'hint';
export type Run = 'onType' | 'onSave';
export type NoGradContext = 'no_grad' | 'inference_mode';
export type ImportStrategy = 'useBundled' | 'fromEnvironment';
export type DiagnosticMode = 'openFilesOnly' | 'workspace';

/** What the server reads: sent as `initializationOptions.settings` and on `workspace/configuration`. */
export interface ServerSettings {
    /** `null` leaves the choice to the project's `[tool.torchmode]` table (all rules by default). */
    select: string[] | null;
    ignore: string[];
    severity: Record<string, Severity>;
    /** The least level shown: lower levels are the findings a rule is less sure of. */
    minSeverity: Severity;
    run: Run;
    debounceMs: number;
    fixNoGradWith: NoGradContext;
    /** The mode timeline: each model's mode and the grad mode as inlay hints. */
    inlayHints: boolean;
    /** `workspace`: every Python file of the workspace is analysed in the background and reported. */
    diagnosticMode: DiagnosticMode;
}

/** What only the client reads: how to start the server. */
export interface ClientSettings {
    interpreter: string[];
    importStrategy: ImportStrategy;
}

/** The part of `vscode.WorkspaceConfiguration` these functions need. */
export interface SettingsSource {
    get(key: string): unknown;
}

export const SECTION = 'torchmode';
export const SERVER_SETTING_KEYS = ['select', 'ignore', 'severity', 'minSeverity', 'run', 'debounceMs', 'fixNoGradWith', 'inlayHints', 'diagnosticMode'] as const;
/** Changing one of these restarts the server; `trace.server` is picked up live by the language client. */
export const RESTART_SETTING_KEYS = [...SERVER_SETTING_KEYS, 'interpreter', 'importStrategy'] as const;

const SEVERITIES: readonly Severity[] = ['error', 'warning', 'info', 'hint'];
export const DEFAULT_DEBOUNCE_MS = 150;
const MAX_DEBOUNCE_MS = 10_000;

function stringList(value: unknown): string[] {
    // A single string is a common hand-written mistake in settings.json; take it as a list of one.
    const items = typeof value === 'string' ? [value] : Array.isArray(value) ? value : [];
    return items.filter((item): item is string => typeof item === 'string').map((item) => item.trim()).filter((item) => item !== '');
}

function oneOf<T extends string>(value: unknown, allowed: readonly T[], fallback: T): T {
    return typeof value === 'string' && (allowed as readonly string[]).includes(value) ? (value as T) : fallback;
}

function severityMap(value: unknown): Record<string, Severity> {
    const result: Record<string, Severity> = {};
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
        return result;
    }
    for (const [code, level] of Object.entries(value as Record<string, unknown>)) {
        const normalized = typeof level === 'string' ? level.trim().toLowerCase() : '';
        if ((SEVERITIES as readonly string[]).includes(normalized) && code.trim() !== '') {
            result[code.trim().toUpperCase()] = normalized as Severity;
        }
    }
    return result;
}

function debounce(value: unknown): number {
    if (typeof value !== 'number' || !Number.isFinite(value)) {
        return DEFAULT_DEBOUNCE_MS;
    }
    return Math.min(MAX_DEBOUNCE_MS, Math.max(0, Math.round(value)));
}

export function readServerSettings(source: SettingsSource): ServerSettings {
    const select = stringList(source.get('select'));
    return {
        // An empty list in the UI means "no preference", not "report nothing".
        select: select.length > 0 ? select : null,
        ignore: stringList(source.get('ignore')),
        severity: severityMap(source.get('severity')),
        minSeverity: oneOf<Severity>(source.get('minSeverity'), SEVERITIES, 'warning'),
        run: oneOf<Run>(source.get('run'), ['onType', 'onSave'], 'onType'),
        debounceMs: debounce(source.get('debounceMs')),
        fixNoGradWith: oneOf<NoGradContext>(source.get('fixNoGradWith'), ['no_grad', 'inference_mode'], 'no_grad'),
        inlayHints: typeof source.get('inlayHints') === 'boolean' ? (source.get('inlayHints') as boolean) : true,
        diagnosticMode: oneOf<DiagnosticMode>(source.get('diagnosticMode'), ['openFilesOnly', 'workspace'], 'openFilesOnly'),
    };
}

export function readClientSettings(source: SettingsSource): ClientSettings {
    return {
        interpreter: stringList(source.get('interpreter')),
        importStrategy: oneOf<ImportStrategy>(source.get('importStrategy'), ['useBundled', 'fromEnvironment'], 'useBundled'),
    };
}

/** Whether a configuration change (tested with `affects("torchmode.x")`) needs a server restart. */
export function needsRestart(affects: (section: string) => boolean): boolean {
    return RESTART_SETTING_KEYS.some((key) => affects(`${SECTION}.${key}`));
}
