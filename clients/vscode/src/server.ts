// Starts, stops and restarts the language client as settings change.
import * as vscode from 'vscode';
import { LanguageClient, State } from 'vscode-languageclient/node';
import { ClientHooks, createClient } from './client';
import { initializationOptions, missingExecutable, pythonSetting, serverLaunch } from './config';
import { errorText, showError } from './errors';
import { describePython } from './commands';
import { FolderPython, PythonChoice, PythonSettingChange, ServerCommand, StatusResult } from './protocol';
import { PythonSelection } from './python';

export class ServerManager implements vscode.Disposable {
  private current: LanguageClient | undefined;
  private starting: Promise<LanguageClient | undefined> | undefined;
  private readonly item = vscode.window.createStatusBarItem('twinls.server', vscode.StatusBarAlignment.Left, 51);
  private readonly subscriptions: vscode.Disposable[] = [];
  /** The launch and options the current server was started with. */
  private launched: string | undefined;
  private restarting: Promise<void> = Promise.resolve();
  private readonly python: PythonSelection;
  /** The interpreter the server was last told about (JSON of python + source). */
  private pythonSent: string | undefined;

  constructor(
    private readonly output: vscode.LogOutputChannel,
    private readonly hooks: ClientHooks,
  ) {
    this.python = new PythonSelection(output);
    this.item.name = 'twinls';
    this.item.command = 'twinls.showTwinStatus';
    this.subscriptions.push(
      vscode.workspace.onDidChangeConfiguration((e) => {
        // VS Code also fires this when it registers the extension's own defaults:
        // restart only when what the server is started with really changed.
        if (e.affectsConfiguration('twinls') && this.launched !== undefined && fingerprint() !== this.launched) {
          this.output.info('settings changed: restarting the server');
          void this.restart();
        } else if (e.affectsConfiguration('twinls.python')) {
          void this.sendPython();
        }
      }),
      // A folder added gets its interpreter (the client sends didChangeWorkspaceFolders itself).
      vscode.workspace.onDidChangeWorkspaceFolders(() => void this.sendPython()),
    );
  }

  /** The running client, starting it if needed; undefined after an error was shown. */
  client(): Promise<LanguageClient | undefined> {
    const current = this.current;
    if (current?.isRunning()) {
      return Promise.resolve(current);
    }
    if (current && current.state === State.Starting) {
      // The client is restarting its crashed server by itself: wait for that one.
      return current.start().then(
        () => current,
        () => undefined,
      );
    }
    this.starting ??= this.start().finally(() => (this.starting = undefined));
    return this.starting;
  }

  /** Stop and start again; restarts queue up behind each other and behind a start. */
  restart(): Promise<void> {
    this.restarting = this.restarting.then(async () => {
      await this.starting;
      await this.stop();
      await this.client();
    });
    return this.restarting;
  }

  private async start(): Promise<LanguageClient | undefined> {
    this.launched = fingerprint();
    const launch = serverLaunch();
    const { options, problems } = initializationOptions();
    await this.python.connect(() => void this.sendPython());
    Object.assign(options, await this.choosePython());
    this.pythonSent = JSON.stringify(await this.choosePython());
    if (problems.length > 0) {
      this.show('error', 'twinls: bad settings');
      void showError(`twinls: bad settings — ${problems.join('; ')}. Fix them to start the server.`, { settings: true });
      return undefined;
    }
    const missing = missingExecutable(launch);
    if (missing) {
      this.show('error', 'twinls: server not found');
      void showError(missing, { settings: true });
      return undefined;
    }
    if (this.current) {
      void this.current.dispose(); // stopped for good (its error handler gave up)
    }
    this.output.info(`starting ${launch.command} ${launch.args.join(' ')} --stdio with ${JSON.stringify(options)}`);
    const client = createClient(launch, options, this.output, this.hooks);
    client.onDidChangeState((e) => {
      if (e.newState === State.Running) {
        this.show('ready');
        void this.showInterpreters(client);
      } else if (e.newState === State.Stopped && this.current === client) {
        this.show('error', 'twinls: server stopped');
      }
    });
    this.current = client;
    this.show('starting');
    try {
      await client.start();
      return client;
    } catch (err) {
      this.show('error', 'twinls: server failed to start');
      void showError(`twinls: the server (${launch.command}) failed to start: ${errorText(err)}`, { settings: true });
      return undefined;
    }
  }

  /** Per workspace folder: its `twinls.python`, else the Python extension's selection for
   *  it (`pythonByFolder`, by folder URI); with no folder, the window's. */
  private async choosePython(): Promise<PythonChoice> {
    const folders = vscode.workspace.workspaceFolders ?? [];
    if (folders.length === 0) {
      return this.folderPython(undefined);
    }
    const pythonByFolder: Record<string, FolderPython> = {};
    for (const folder of folders) {
      const choice = await this.folderPython(folder.uri);
      if (choice.python) {
        pythonByFolder[folder.uri.toString()] = choice;
      }
    }
    return { python: null, pythonByFolder };
  }

  private async folderPython(folder: vscode.Uri | undefined): Promise<FolderPython> {
    const setting = pythonSetting(vscode.workspace.getConfiguration('twinls', folder));
    if (setting) {
      return { python: setting, pythonSource: 'setting' };
    }
    const selected = await this.python.interpreter(folder);
    return selected ? { python: selected, pythonSource: 'python extension' } : { python: null };
  }

  /** Tell the running server about a new interpreter: it moves the twins, documents kept. */
  private async sendPython(): Promise<void> {
    const choice = await this.choosePython();
    const client = this.current;
    if (!client?.isRunning() || JSON.stringify(choice) === this.pythonSent) {
      return;
    }
    this.pythonSent = JSON.stringify(choice);
    this.output.info(`interpreters for the twins: ${JSON.stringify(choice)}`);
    const change: PythonSettingChange = { twinls: choice };
    await client.sendNotification('workspace/didChangeConfiguration', { settings: change });
    void this.showInterpreters(client);
  }

  /** The status item's tooltip names each folder's interpreter, version and source. */
  private async showInterpreters(client: LanguageClient): Promise<void> {
    try {
      const status = (await client.sendRequest('workspace/executeCommand', {
        command: ServerCommand.status,
        arguments: [],
      })) as StatusResult;
      const lines = Object.entries(status.server.interpreters_by_root ?? {}).map(
        ([root, interp]) => `${root}: ${describePython(interp)}`,
      );
      if (this.current === client && lines.length > 0) {
        this.item.tooltip = ['twinls: twins ready — click for status', ...lines].join('\n');
      }
    } catch (err) {
      this.output.warn(`status for the tooltip: ${errorText(err)}`);
    }
  }

  async stop(): Promise<void> {
    const client = this.current;
    this.current = undefined;
    if (client?.needsStop()) {
      try {
        await client.stop(5000);
      } catch (err) {
        this.output.warn(`stopping the server: ${errorText(err)}`);
      }
    }
  }

  private show(state: 'starting' | 'ready' | 'error', tooltip?: string): void {
    const icon = { starting: '$(loading~spin)', ready: '$(server-process)', error: '$(error)' }[state];
    this.item.text = `${icon} twinls`;
    this.item.tooltip = tooltip ?? (state === 'ready' ? 'twinls: twin ready — click for status' : 'twinls: starting');
    this.item.command = state === 'error' ? 'twinls.showOutput' : 'twinls.showTwinStatus';
    this.item.backgroundColor = state === 'error' ? new vscode.ThemeColor('statusBarItem.errorBackground') : undefined;
    this.item.show();
  }

  dispose(): void {
    void this.stop();
    this.item.dispose();
    this.python.dispose();
    this.subscriptions.forEach((d) => d.dispose());
  }
}

function fingerprint(): string {
  // The interpreter is left out: a new one moves the twins, not the server (sendPython).
  return JSON.stringify([serverLaunch(), initializationOptions()]);
}
