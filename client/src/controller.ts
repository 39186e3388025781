// Owns the running language client: start, restart (serialised), stop.
import * as fs from 'node:fs';
import * as os from 'node:os';

import * as vscode from 'vscode';
import { type LanguageClient, State } from 'vscode-languageclient/node';

import { findNewerPython, newerEnvironments } from './fallback';
import { describeInterpreter, installAdvice, SUPPORTED_PYTHONS } from './interpreter';
import { bundledLibs, effectiveStrategy, probeLaunch, serverLaunch } from './launch';
import { explainVerdict, judgeProbe, type Verdict } from './probe';
import { runProcess } from './processes';
import { knownEnvironments, selectedInterpreter } from './python';
import { offerRemedy, type RemedyContext } from './remedies';
import { createClient } from './server';
import { readClientSettings, readServerSettings, SECTION } from './settings';
import type { ServerStatus } from './status';
import type { ImportStrategy } from './settings';
import { decideLaunch, realFiles, type RestrictedContext, userLevelSettings } from './trust';

// The probe only starts Python and locates modules; a hung interpreter (a broken sitecustomize, a
// home directory on a dead network share) must not hold up the restart queue for ever.
const PROBE_TIMEOUT_MS = 30_000;

export class ServerController implements vscode.Disposable {
    private client: LanguageClient | undefined;
    private stateListener: { dispose(): void } | undefined;
    private queue: Promise<void> = Promise.resolve();
    /** A restart is queued and has not begun: later requests can join it. */
    private restartQueued = false;

    constructor(
        private readonly extensionPath: string,
        private readonly output: vscode.LogOutputChannel,
        private readonly status: ServerStatus,
    ) {}

    /** One start or restart at a time; requests made while one waits to begin are served by it. */
    restart(reason: string): Promise<void> {
        if (this.restartQueued) {
            return this.queue;
        }
        this.restartQueued = true;
        this.queue = this.queue
            .then(() => {
                this.restartQueued = false;
                return this.replaceServer(reason);
            })
            .catch((error: unknown) => {
                const message = error instanceof Error ? error.message : String(error);
                this.output.error(`torchmode server failed to start: ${message}`);
                this.status.set('error', `The server failed to start: ${message}`);
            });
        return this.queue;
    }

    private resource(): vscode.Uri | undefined {
        return vscode.workspace.workspaceFolders?.[0]?.uri;
    }

    private async replaceServer(reason: string): Promise<void> {
        await this.stopServer();
        // Read at every (re)start: trust can be granted while the extension runs (extension.ts).
        const trusted = vscode.workspace.isTrusted;
        const restricted = !trusted;
        this.status.setRestricted(restricted);
        this.output.info(`starting the torchmode server (${reason})`);
        this.output.info(
            trusted
                ? 'workspace trusted: normal mode'
                : 'workspace not trusted: restricted mode. The bundled server runs in an isolated Python (-I -S) from outside ' +
                      "the workspace; the workspace's interpreter, Python extension selection and torchmode.interpreter and " +
                      'torchmode.importStrategy values are not used',
        );
        this.status.set('starting', 'Starting the torchmode server…');
        const resource = this.resource();
        const config = vscode.workspace.getConfiguration(SECTION, resource);
        const clientSettings = readClientSettings(config);
        const log = (message: string): void => this.output.warn(message);
        const context: RestrictedContext = {
            workspaceFolders: (vscode.workspace.workspaceFolders ?? []).filter((folder) => folder.uri.scheme === 'file').map((folder) => folder.uri.fsPath),
            userHome: os.homedir(),
            pathVariable: process.env.PATH,
            files: realFiles,
        };
        const bundleShipped = fs.existsSync(bundledLibs(this.extensionPath));
        const decision = decideLaunch({
            trusted,
            settings: clientSettings,
            userSettings: readClientSettings(userLevelSettings((key) => config.inspect(key))),
            // The Python extension's choice is the workspace's: not even asked for in restricted mode.
            fromPythonExtension: trusted ? await selectedInterpreter(resource, log) : undefined,
            context,
        });
        for (const note of decision.notes) {
            this.output.warn(note);
        }
        if (decision.kind === 'none') {
            const verdict: Verdict = { kind: 'no-python', reason: decision.reason };
            this.output.error(decision.reason);
            this.status.set('error', decision.reason);
            offerRemedy(verdict, this.remedyContext([], resource, restricted, bundleShipped));
            return;
        }
        if (restricted && !bundleShipped) {
            const verdict: Verdict = {
                kind: 'bundle-unusable',
                python: '?',
                executable: decision.interpreter.command.join(' '),
                reason: 'this torchmode package (universal) bundles no server, and restricted mode runs only a bundled one',
            };
            const reason = `torchmode: ${verdict.reason}`;
            this.output.error(reason);
            this.status.set('error', reason);
            offerRemedy(verdict, this.remedyContext([], resource, restricted, bundleShipped), verdict.reason);
            return;
        }
        let interpreter = decision.interpreter;
        const { strategy, note } = effectiveStrategy(decision.importStrategy, bundleShipped);
        let importStrategy = strategy;
        if (note !== undefined) {
            this.output.info(note);
        }
        this.output.info(`interpreter: ${describeInterpreter(interpreter)}; import strategy: ${importStrategy}`);

        const options = { restricted };
        let verdict = await this.probe(interpreter.command, importStrategy, restricted);
        if (verdict.kind === 'old-python') {
            this.output.warn(`${explainVerdict(verdict)}: looking for Python ${SUPPORTED_PYTHONS.join(', ')}`);
            // The bundled server is what a newer Python can run: the old environment's torchmode is
            // of no use to it. Without a bundle, the newer Python's own environment.
            const fallbackStrategy: ImportStrategy = bundleShipped ? 'useBundled' : importStrategy;
            // The Python extension's environments are the workspace's business: trusted mode only.
            const environments = restricted ? [] : newerEnvironments(await knownEnvironments(log));
            const search = await findNewerPython(process.platform, context, (command) => this.probe(command, fallbackStrategy, restricted), environments);
            for (const searchNote of search.notes) {
                this.output.info(searchNote);
            }
            const fallback = search.found;
            if (fallback === undefined) {
                const where = restricted ? 'on the PATH' : "on the PATH or among the Python extension's environments";
                const explanation = `${explainVerdict(verdict)}, and no Python ${SUPPORTED_PYTHONS.join(', ')} that runs it was found ${where}. ${installAdvice(process.platform)}`;
                this.output.error(explanation);
                this.status.set('error', explanation);
                offerRemedy(verdict, this.remedyContext(interpreter.command, resource, restricted, bundleShipped), explanation);
                return;
            }
            interpreter = fallback.interpreter;
            importStrategy = fallbackStrategy;
            verdict = fallback.verdict;
            this.output.info(`interpreter: ${describeInterpreter(interpreter)}; import strategy: ${importStrategy}`);
        }
        const explanation = explainVerdict(verdict);
        if (verdict.kind !== 'ok') {
            this.output.error(explanation);
            this.status.set('error', explanation);
            offerRemedy(verdict, this.remedyContext(interpreter.command, resource, restricted, bundleShipped));
            return;
        }
        this.output.info(explanation);
        const readyDetail = `${explanation}; interpreter: ${describeInterpreter(interpreter)}`;

        const launch = serverLaunch(interpreter.command, importStrategy, this.extensionPath, process.env, options);
        this.output.info(`server command: ${[launch.command, ...launch.args].join(' ')}${launch.cwd !== undefined ? ` (in ${launch.cwd})` : ''}`);
        const client = createClient(launch, readServerSettings(config), this.output, (why) => this.status.set('error', why));
        this.stateListener = client.onDidChangeState((event) => {
            if (event.newState === State.Running) {
                this.status.set('ready', readyDetail);
            } else if (event.newState === State.Starting) {
                this.status.set('starting', 'Starting the torchmode server…');
            } else if (this.status.state !== 'error') {
                this.status.set('stopped', 'The torchmode server is not running.');
            }
        });
        this.client = client;
        await client.start();
    }

    private async probe(command: readonly string[], strategy: ImportStrategy, restricted: boolean): Promise<Verdict> {
        const probe = probeLaunch(command, strategy, this.extensionPath, process.env, { restricted });
        const outcome = await runProcess(probe.command, probe.args, { env: probe.env, cwd: probe.cwd, timeoutMs: PROBE_TIMEOUT_MS });
        const onlyFrom = restricted ? bundledLibs(this.extensionPath) : undefined;
        return judgeProbe(outcome, strategy, command.join(' '), onlyFrom);
    }

    private remedyContext(interpreter: string[], resource: vscode.Uri | undefined, restricted: boolean, bundleShipped: boolean): RemedyContext {
        return { interpreter, resource, restricted, bundleShipped, output: this.output, restart: (why) => this.restart(why) };
    }

    private async stopServer(): Promise<void> {
        const client = this.client;
        this.client = undefined;
        this.stateListener?.dispose();
        this.stateListener = undefined;
        if (client !== undefined) {
            try {
                await client.stop();
            } catch (error) {
                // A server that already died cannot be stopped politely; it is gone either way.
                this.output.warn(`stopping the torchmode server: ${String(error)}`);
            }
        }
    }

    stop(): Promise<void> {
        this.queue = this.queue.then(() => this.stopServer());
        return this.queue;
    }

    dispose(): void {
        void this.stop();
    }
}
