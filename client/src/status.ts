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

    set(state: ServerState, detail: string): void {
        this.current = state;
        this.item.text = `${ICONS[state]} torchmode`;
        // The state word is part of the accessible label, so screen readers (and the e2e test) can read it.
        this.item.accessibilityInformation = { label: `torchmode server ${state}: ${detail}` };
        this.item.tooltip = new vscode.MarkdownString(`**torchmode: ${state}**\n\n${detail}\n\nClick to show the log.`);
        this.item.backgroundColor = state === 'error' ? new vscode.ThemeColor('statusBarItem.errorBackground') : undefined;
    }

    dispose(): void {
        this.item.dispose();
    }
}
