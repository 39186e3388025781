// Building the language client for one run of the server.
import * as vscode from 'vscode';
import {
    CloseAction,
    type CloseHandlerResult,
    ErrorAction,
    type ErrorHandler,
    type ErrorHandlerResult,
    LanguageClient,
    ResponseError,
    type LanguageClientOptions,
    RevealOutputChannelOn,
    type ServerOptions,
} from 'vscode-languageclient/node';

import type { Launch } from './launch';
import { readServerSettings, SECTION, type ServerSettings } from './settings';

export const CLIENT_ID = 'torchmode';
export const FIX_ALL_KIND = 'source.fixAll.torchmode';

/** Python files on disk, unsaved Python buffers and the Python cells of notebooks. */
export const DOCUMENT_SELECTOR = [
    { scheme: 'file', language: 'python' },
    { scheme: 'untitled', language: 'python' },
    { scheme: 'vscode-notebook-cell', language: 'python' },
    { notebook: '*', language: 'python' },
];

const MAX_RESTARTS = 3;
const RESTART_WINDOW_MS = 3 * 60 * 1000;

/** Restarts a crashed server a few times, then gives up and says so (instead of looping). */
class CrashPolicy implements ErrorHandler {
    private readonly crashes: number[] = [];

    constructor(private readonly onGiveUp: (reason: string) => void) {}

    error(): ErrorHandlerResult {
        return { action: ErrorAction.Continue };
    }

    closed(): CloseHandlerResult {
        const now = Date.now();
        this.crashes.push(now);
        while (this.crashes.length > 0 && now - (this.crashes[0] ?? now) > RESTART_WINDOW_MS) {
            this.crashes.shift();
        }
        if (this.crashes.length <= MAX_RESTARTS) {
            return { action: CloseAction.Restart, handled: true };
        }
        const reason = `the server stopped ${this.crashes.length} times in ${RESTART_WINDOW_MS / 60_000} minutes; see the torchmode output`;
        this.onGiveUp(reason);
        return { action: CloseAction.DoNotRestart, message: `torchmode: ${reason}.` };
    }
}

export function createClient(
    launch: Launch,
    settings: ServerSettings,
    output: vscode.LogOutputChannel,
    onGiveUp: (reason: string) => void,
): LanguageClient {
    const serverOptions: ServerOptions = {
        command: launch.command,
        args: launch.args,
        options: { env: launch.env, cwd: launch.cwd },
    };
    const serverSettings = (scope: vscode.Uri | undefined): ServerSettings =>
        readServerSettings(vscode.workspace.getConfiguration(SECTION, scope));
    const clientOptions: LanguageClientOptions = {
        documentSelector: DOCUMENT_SELECTOR,
        outputChannel: output,
        traceOutputChannel: output,
        revealOutputChannelOn: RevealOutputChannelOn.Never,
        initializationOptions: { settings },
        errorHandler: new CrashPolicy(onGiveUp),
        // VS Code would send every `torchmode.*` value, client-only ones included; the server
        // gets exactly the settings it knows, normalised as at start-up, whichever way it asks.
        middleware: {
            workspace: {
                // Every change to a server setting restarts the server (extension.ts), which then
                // gets the new values at initialisation: a notification to the old one, racing
                // with its shutdown, would only fail. Other sections pass through.
                didChangeConfiguration: async (sections, next) => {
                    const others = sections?.filter((section) => section !== SECTION);
                    if (others === undefined || others.length > 0) {
                        await next(others);
                    }
                },
                configuration: async (params, token, next) => {
                    const answer = await next(params, token);
                    if (answer instanceof ResponseError) {
                        return answer;
                    }
                    const values: unknown[] = answer;
                    return params.items.map((item, index) =>
                        item.section === SECTION
                            ? serverSettings(item.scopeUri !== undefined ? vscode.Uri.parse(item.scopeUri) : undefined)
                            : values[index],
                    );
                },
            },
        },
    };
    return new LanguageClient(CLIENT_ID, 'torchmode', serverOptions, clientOptions);
}
