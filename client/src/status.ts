// The status bar item showing the server's state; clicking it opens the log.
import * as vscode from 'vscode';

export type ServerState = 'starting' | 'ready' | 'error' | 'stopped';

const ICONS: Record<ServerState, string> = {
    starting: '$(loading~spin)',
    ready: '$(check)',
    error: '$(error)',
    stopped: '$(circle-slash)',
};

export class ServerStatus implements vscode.Disposable {
    private readonly item: vscode.StatusBarItem;
    private current: ServerState = 'stopped';
    private restricted = false;

    constructor() {
        this.item = vscode.window.createStatusBarItem('torchmode.status', vscode.StatusBarAlignment.Right, 100);
        this.item.name = 'torchmode';
        this.item.command = 'torchmode.showOutput';
        this.set('starting', 'Starting the torchmode server…');
        this.item.show();
    }

    get state(): ServerState {
        return this.current;
    }

    /** Restricted mode (an untrusted workspace) shows in the icon, the label and the tooltip of every state. */
    setRestricted(restricted: boolean): void {
        this.restricted = restricted;
    }

    set(state: ServerState, detail: string): void {
        this.current = state;
        const mode = this.restricted ? 'restricted mode (untrusted workspace): ' : '';
        this.item.text = `${ICONS[state]} torchmode${this.restricted ? ' $(workspace-untrusted)' : ''}`;
        // The state word is part of the accessible label, so screen readers (and the e2e test) can read it.
        this.item.accessibilityInformation = { label: `torchmode server ${state}: ${mode}${detail}` };
        const heading = `**torchmode: ${state}**${this.restricted ? ' (restricted mode)' : ''}`;
        const explanation = this.restricted
            ? '\n\nThe workspace is not trusted: the bundled server runs in an isolated Python from outside the workspace, and the workspace\'s interpreter settings are not used.'
            : '';
        this.item.tooltip = new vscode.MarkdownString(`${heading}\n\n${detail}${explanation}\n\nClick to show the log.`);
        this.item.backgroundColor = state === 'error' ? new vscode.ThemeColor('statusBarItem.errorBackground') : undefined;
    }

    dispose(): void {
        this.item.dispose();
    }
}
