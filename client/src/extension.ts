// Entry point: wires settings, the Python extension and the commands to the server controller.
import * as vscode from 'vscode';

import { ServerController } from './controller';
import { onInterpreterChange } from './python';
import { FIX_ALL_KIND } from './server';
import { needsRestart, readClientSettings, SECTION } from './settings';
import { ServerStatus } from './status';

let controller: ServerController | undefined;

export function activate(context: vscode.ExtensionContext): void {
    const output = vscode.window.createOutputChannel('torchmode', { log: true });
    const status = new ServerStatus();
    controller = new ServerController(context.extensionPath, output, status);
    const server = controller;
    context.subscriptions.push(output, status, server);

    context.subscriptions.push(
        vscode.commands.registerCommand('torchmode.restart', () => server.restart('restart requested')),
        vscode.commands.registerCommand('torchmode.showOutput', () => output.show()),
        vscode.commands.registerCommand('torchmode.fixAll', async () => {
            await vscode.commands.executeCommand('editor.action.codeAction', { kind: FIX_ALL_KIND, apply: 'first' });
        }),
        // Restricted mode ends: start again with the workspace's interpreter and settings.
        vscode.workspace.onDidGrantWorkspaceTrust(() => server.restart('workspace trust granted')),
        vscode.workspace.onDidChangeConfiguration((event) => {
            if (needsRestart((section) => event.affectsConfiguration(section))) {
                void server.restart('settings changed');
            }
        }),
    );
    // Not awaited: activation must not wait for Python (or the Python extension) to start; the
    // status bar shows progress.
    void server.restart('extension activated');
    void onInterpreterChange(
        () => {
            // An explicit torchmode.interpreter setting makes the Python extension's choice
            // irrelevant, and so does restricted mode (an untrusted workspace), which never uses it.
            const setting = readClientSettings(vscode.workspace.getConfiguration(SECTION));
            if (setting.interpreter.length === 0 && vscode.workspace.isTrusted) {
                void server.restart('the selected Python interpreter changed');
            }
        },
        (message) => output.warn(message),
    ).then((listener) => context.subscriptions.push(listener));
}

export async function deactivate(): Promise<void> {
    await controller?.stop();
    controller = undefined;
}
