// The part of the Python extension's API (@vscode/python-extension) that torchmode uses.
const vscode = require('vscode');

function activeEnvironment() {
    const path = vscode.workspace.getConfiguration('fakePython').get('path') || '';
    return { id: path, path };
}

exports.activate = function activate(context) {
    const changed = new vscode.EventEmitter();
    context.subscriptions.push(
        changed,
        vscode.workspace.onDidChangeConfiguration((event) => {
            if (event.affectsConfiguration('fakePython.path')) {
                changed.fire({ ...activeEnvironment(), resource: undefined });
            }
        }),
    );
    return {
        environments: {
            getActiveEnvironmentPath: () => activeEnvironment(),
            resolveEnvironment: async (environment) => {
                const path = typeof environment === 'string' ? environment : environment.path;
                return path ? { id: path, path, executable: { uri: vscode.Uri.file(path) } } : undefined;
            },
            onDidChangeActiveEnvironmentPath: changed.event,
        },
    };
};
