// Entry point: wires the server, the Testing view, the results view and the commands.
import * as vscode from 'vscode';
import { registerCommands } from './commands';
import { LiveTests } from './live';
import { LensArgument } from './protocol';
import { setExtensionRoot } from './config';
import { setErrorTargets } from './errors';
import { ResultsView } from './resultsView';
import { ServerManager } from './server';
import { TwinTests } from './tests';
import { Inspector } from './inspector';
import { registerInspectCommands } from './inspectCommands';
import { debugRun, registerDebug } from './debugRun';

let server: ServerManager | undefined;

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  // vscode-languageclient 11 needs a log output channel.
  const output = vscode.window.createOutputChannel('twinls', { log: true });
  setErrorTargets({ output });
  setExtensionRoot(context.extensionPath);

  let tests: TwinTests | undefined;
  let live: LiveTests | undefined;
  let inspector: Inspector | undefined;
  const send = async (command: string, args: unknown[]): Promise<unknown> => {
    const client = await server?.client();
    return client?.sendRequest('workspace/executeCommand', { command, arguments: args });
  };
  server = new ServerManager(output, {
    onDebug: async (args) => debugRun(send, args, output),
    onInspect: async (args) => {
      const options = typeof args[1] === 'object' && args[1] !== null ? (args[1] as { title?: string }) : {};
      await inspector!.show(typeof args[0] === 'string' ? args[0] : undefined, options.title ?? 'result');
    },
    // Lens clicks: show the run in the Testing view and the status bar.
    onRun: (command, args, next) => {
      const lens = typeof args[0] === 'object' && args[0] !== null ? (args[0] as LensArgument) : undefined;
      const what = lens?.name ?? command.replace('twinls.', '');
      return tests!.track(`twinls: ${what}`, async () => await next(command, args), undefined, lens);
    },
    onClient: (client) => live?.attach(client),
  });
  const manager = server;
  tests = new TwinTests(async (command, args) => {
    const client = await manager.client();
    return client?.sendRequest('workspace/executeCommand', { command, arguments: args });
  }, output);
  const results = new ResultsView();
  live = new LiveTests(tests, output);
  const liveTests = live;
  inspector = new Inspector(send, output);

  context.subscriptions.push(
    output,
    server,
    tests,
    results,
    liveTests,
    vscode.commands.registerCommand('twinls.toggleLive', async () => await liveTests.toggle(await manager.client())),
    inspector,
    ...registerCommands({ client: () => manager.client(), results, tests, output, restartServer: () => manager.restart() }),
    ...registerInspectCommands(inspector, tests, () => manager.client()),
    ...registerDebug(tests.controller, send, output),
  );
  await server.client();
}

export async function deactivate(): Promise<void> {
  await server?.stop();
}
