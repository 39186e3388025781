// Notifications that explain why the server cannot start and offer the way out.
import * as vscode from 'vscode';

import { pipInstall } from './launch';
import { explainVerdict, type Verdict } from './probe';
import { runProcess } from './processes';
import { type ImportStrategy, SECTION } from './settings';

export interface RemedyContext {
    interpreter: string[];
    resource: vscode.Uri | undefined;
    /** Restricted mode: the offers that would use the workspace's environment are not made. */
    restricted: boolean;
    /** False in the universal package: there is no bundled copy to offer. */
    bundleShipped: boolean;
    output: vscode.LogOutputChannel;
    restart: (reason: string) => Promise<void>;
}

/** Writes the setting where the user set it (folder, workspace or user settings). */
async function setImportStrategy(strategy: ImportStrategy, resource: vscode.Uri | undefined): Promise<void> {
    const config = vscode.workspace.getConfiguration(SECTION, resource);
    const current = config.inspect<string>('importStrategy');
    const target =
        current?.workspaceFolderValue !== undefined
            ? vscode.ConfigurationTarget.WorkspaceFolder
            : current?.workspaceValue !== undefined
              ? vscode.ConfigurationTarget.Workspace
              : vscode.ConfigurationTarget.Global;
    await config.update('importStrategy', strategy, target);
}

async function installWithPip(context: RemedyContext): Promise<void> {
    const { command, args } = pipInstall(context.interpreter);
    context.output.info(`running ${[command, ...args].join(' ')}`);
    const outcome = await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title: 'Installing torchmode with pip…' },
        () => runProcess(command, args, { onOutput: (text) => context.output.info(text.trimEnd()) }),
    );
    if (outcome.exitCode === 0) {
        await context.restart('torchmode was installed');
        return;
    }
    const detail = outcome.spawnError ?? `pip exited with code ${String(outcome.exitCode)}`;
    const choice = await vscode.window.showErrorMessage(`torchmode: installing with pip failed (${detail}).`, 'Show Output');
    if (choice === 'Show Output') {
        context.output.show();
    }
}

async function openInterpreterSettings(): Promise<void> {
    await vscode.commands.executeCommand('workbench.action.openSettings', `${SECTION}.interpreter`);
}

async function pickInterpreter(): Promise<void> {
    if (vscode.extensions.getExtension('ms-python.python') !== undefined) {
        await vscode.commands.executeCommand('python.setInterpreter');
    } else {
        await openInterpreterSettings();
    }
}

async function manageTrust(): Promise<void> {
    await vscode.commands.executeCommand('workbench.trust.manage');
}

/**
 * Restricted mode's offers: an interpreter in the user settings, or trusting the workspace. Not the
 * Python extension's selection, pip or the environment's torchmode: those are the workspace's.
 */
async function offerInRestrictedMode(verdict: Verdict, message: string, context: RemedyContext): Promise<void> {
    if (verdict.kind === 'no-python' || verdict.kind === 'old-python') {
        const choice = await vscode.window.showErrorMessage(
            `${message} In restricted mode (an untrusted workspace) torchmode runs only a Python outside the workspace: set one in your user settings, or trust the workspace.`,
            'Open User Settings',
            'Manage Workspace Trust',
        );
        if (choice === 'Open User Settings') {
            // The User tab: restricted mode reads no workspace value of this setting.
            await vscode.commands.executeCommand('workbench.action.openGlobalSettings', { query: `${SECTION}.interpreter` });
        } else if (choice === 'Manage Workspace Trust') {
            await manageTrust();
        }
        return;
    }
    const choice = await vscode.window.showErrorMessage(
        `${message} In restricted mode (an untrusted workspace) only the bundled copy runs; trust the workspace to use the torchmode installed in an environment.`,
        'Manage Workspace Trust',
        'Show Output',
    );
    if (choice === 'Manage Workspace Trust') {
        await manageTrust();
    } else if (choice === 'Show Output') {
        context.output.show();
    }
}

/**
 * Shows the problem without blocking the caller: the user may answer much later, or never.
 * `explanation`: what to say instead of the verdict's own line (e.g. with what to install).
 */
export function offerRemedy(verdict: Verdict, context: RemedyContext, explanation: string = explainVerdict(verdict)): void {
    // "torchmode: torchmode needs ..." would stutter.
    // One full stop at the end, whether or not the explanation brought its own.
    const sentence = `${explanation.replace(/\.$/, '')}.`;
    const message = explanation.startsWith('torchmode') ? sentence : `torchmode: ${sentence}`;
    const handle = async (): Promise<void> => {
        if (verdict.kind === 'ok') {
            return;
        }
        if (context.restricted) {
            await offerInRestrictedMode(verdict, message, context);
            return;
        }
        switch (verdict.kind) {
            case 'no-python':
            case 'old-python': {
                const choice = await vscode.window.showErrorMessage(message, 'Select Interpreter', 'Open Settings');
                if (choice === 'Select Interpreter') {
                    await pickInterpreter();
                } else if (choice === 'Open Settings') {
                    await openInterpreterSettings();
                }
                return;
            }
            case 'missing': {
                if (!context.bundleShipped) {
                    const choice = await vscode.window.showWarningMessage(`${message} Install it into this environment with pip?`, 'Install with pip');
                    if (choice === 'Install with pip') {
                        await installWithPip(context);
                    }
                    return;
                }
                const choice = await vscode.window.showWarningMessage(
                    `${message} Install it into this environment with pip, or use the copy bundled with the extension?`,
                    'Install with pip',
                    'Use Bundled Copy',
                );
                if (choice === 'Install with pip') {
                    await installWithPip(context);
                } else if (choice === 'Use Bundled Copy') {
                    await setImportStrategy('useBundled', context.resource);
                }
                return;
            }
            case 'bundle-unusable': {
                const choice = await vscode.window.showErrorMessage(
                    `${message} Use the torchmode installed in the selected environment instead?`,
                    'Use Environment',
                    'Show Output',
                );
                if (choice === 'Use Environment') {
                    await setImportStrategy('fromEnvironment', context.resource);
                } else if (choice === 'Show Output') {
                    context.output.show();
                }
                return;
            }
        }
    };
    handle().catch((error: unknown) => context.output.error(`torchmode: ${String(error)}`));
}
