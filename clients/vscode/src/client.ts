// The LanguageClient: server process, options, and the hooks the extension needs.
import * as vscode from 'vscode';
import {
  ExecuteCommandSignature,
  LanguageClient,
  LanguageClientOptions,
  MessageType,
  ServerOptions,
  ShowMessageNotification,
  TransportKind,
} from 'vscode-languageclient/node';
import { ServerLaunch } from './config';
import { showError } from './errors';
import { InitializationOptions, RUN_COMMANDS, ServerCommand, ServerMessage } from './protocol';

export interface ClientHooks {
  /** A lens (or any caller) ran a server run command; `next` sends it. */
  onRun(command: string, args: unknown[], next: ExecuteCommandSignature): Promise<unknown>;
  /** A client was made (before it starts): its notification handlers go on here. */
  onClient?(client: LanguageClient): void;
  /** An `Inspect` lens or the failure's code action: open the inspector. */
  onInspect(args: unknown[]): Promise<unknown>;
  /** A `Debug` lens: start the Debug run and attach. */
  onDebug(args: unknown[]): Promise<unknown>;
}

export function createClient(
  launch: ServerLaunch,
  initOptions: InitializationOptions,
  output: vscode.LogOutputChannel,
  hooks: ClientHooks,
): LanguageClient {
  // TransportKind.stdio appends --stdio, which twinls accepts.
  const server: ServerOptions = {
    command: launch.command,
    args: launch.args,
    transport: TransportKind.stdio,
    options: { cwd: vscode.workspace.workspaceFolders?.[0]?.uri.fsPath, env: { ...process.env, PYTHONUNBUFFERED: '1' } },
  };
  const options: LanguageClientOptions = {
    documentSelector: [
      { scheme: 'file', language: 'python' },
      { scheme: 'untitled', language: 'python' },
    ],
    outputChannel: output,
    initializationOptions: initOptions,
    middleware: {
      // Lens clicks arrive here (the client registered the server's commands):
      // route runs through the Testing view, everything else straight on.
      executeCommand: (command, args, next) =>
        RUN_COMMANDS.has(command)
          ? hooks.onRun(command, args, next)
          : command === ServerCommand.inspect
            ? hooks.onInspect(args)
            : command === ServerCommand.debug
              ? hooks.onDebug(args)
              : next(command, args),
    },
  };
  const client = new LanguageClient('twinls', 'twinls', server, options);

  // Replaces the client's own handler (pending handlers are installed after the
  // built-ins at start) so server errors — the twin gave up restarting, a bad
  // setting — come with a way to the output channel.
  client.onNotification(ShowMessageNotification.type, (msg) => {
    const text = msg.message.startsWith('twinls') ? msg.message : `twinls: ${msg.message}`;
    if (msg.type === MessageType.Error) {
      const code = (msg as ServerMessage).code;
      void showError(text, { restart: code === 'twin', settings: code === 'settings' || code === 'interpreter' });
    } else if (msg.type === MessageType.Warning) {
      output.warn(text);
      void vscode.window.showWarningMessage(text);
    } else {
      output.info(text);
      void vscode.window.showInformationMessage(text);
    }
  });
  hooks.onClient?.(client);
  return client;
}
