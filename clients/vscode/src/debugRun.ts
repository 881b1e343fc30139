// Debug runs: the `Debug` lens, the Testing view's Debug profile and `Twinls: Debug
// Test at Cursor` ask the server for `twinls.debug` (a warm run child waiting under
// debugpy, against the unsaved text) and attach VS Code's debugger to the address it
// answers. The default debug type is the extension's own `twinls`: its adapter
// descriptor is that address (`vscode.DebugAdapterServer`), so VS Code speaks DAP
// straight to debugpy's adapter in the run child and needs no other extension.
// `twinls.debugType: "debugpy"` attaches with the Python Debugger extension instead
// (when it is installed), for its extras; it is not installable offline, so the
// default does not depend on it.
import * as vscode from 'vscode';
import { ServerCommand } from './protocol';

export type Send = (command: string, args: unknown[]) => Promise<unknown>;

/** The debug type package.json contributes (`debuggers`, `breakpoints` for python). */
export const DEBUG_TYPE = 'twinls';

interface DebugAddress {
  host: string;
  port: number;
  pid: number;
  runId?: number;
}

interface Connect {
  host: string;
  port: number;
}

/** A `twinls` session's adapter is debugpy's, listening in the run child. */
class AdapterAtAddress implements vscode.DebugAdapterDescriptorFactory {
  createDebugAdapterDescriptor(session: vscode.DebugSession): vscode.ProviderResult<vscode.DebugAdapterDescriptor> {
    const connect = session.configuration.connect as Connect | undefined;
    if (!connect || typeof connect.port !== 'number') {
      throw new Error('a twinls debug session attaches to a Debug run: start it from a Debug lens or the Testing view');
    }
    return new vscode.DebugAdapterServer(connect.port, connect.host ?? '127.0.0.1');
  }
}

/** Says in the output channel where a session stops and how it ends (what a user asks
 * when a breakpoint seems not to be hit; the editor e2e reads it too). */
function tracker(output: vscode.LogOutputChannel): vscode.DebugAdapterTrackerFactory {
  return {
    createDebugAdapterTracker: (session) => {
      const stackRequests = new Set<number>();
      return {
        onWillReceiveMessage: (m: { type?: string; command?: string; seq?: number }) => {
          if (m.type === 'request' && m.command === 'stackTrace' && typeof m.seq === 'number') {
            stackRequests.add(m.seq);
          }
        },
        onDidSendMessage: (m: {
          type?: string;
          event?: string;
          body?: { reason?: string; stackFrames?: { name: string; line: number; source?: { path?: string } }[] };
          request_seq?: number;
        }) => {
          if (m.type === 'event' && m.event === 'stopped') {
            output.info(`debug ${session.name}: stopped (${m.body?.reason})`);
          } else if (m.type === 'event' && (m.event === 'continued' || m.event === 'terminated')) {
            output.info(`debug ${session.name}: ${m.event}`);
          } else if (m.type === 'response' && m.request_seq !== undefined && stackRequests.delete(m.request_seq)) {
            const top = m.body?.stackFrames?.[0];
            if (top) {
              output.info(`debug ${session.name}: top frame ${top.name} at ${top.source?.path}:${top.line}`);
            }
          }
        },
        onError: (err) => output.warn(`debug ${session.name}: ${err.message}`),
      };
    },
  };
}

export async function debugRun(send: Send, args: unknown[], output: vscode.LogOutputChannel): Promise<boolean> {
  const where = (await send(ServerCommand.debug, args)) as DebugAddress | undefined;
  if (!where || typeof where.port !== 'number') {
    return false;
  }
  output.info(`twinls: debug run child ${where.pid} waits at ${where.host}:${where.port}`);
  const folder = vscode.workspace.workspaceFolders?.[0];
  const type = vscode.workspace.getConfiguration('twinls').get<string>('debugType') === 'debugpy' ? 'debugpy' : DEBUG_TYPE;
  const started = await vscode.debug.startDebugging(folder, {
    type,
    request: 'attach',
    name: 'twinls: Debug run',
    connect: { host: where.host, port: where.port },
    justMyCode: false,
  });
  if (!started) {
    void vscode.window.showWarningMessage(
      `twinls: the run waits for a debugger at ${where.host}:${where.port}; attaching with "${type}" failed` +
        (type === 'debugpy' ? ' (it needs the Python Debugger extension; the default "twinls.debugType" needs none).' : '.'),
    );
  }
  return started;
}

export function registerDebug(controller: vscode.TestController, send: Send, output: vscode.LogOutputChannel): vscode.Disposable[] {
  const profile = controller.createRunProfile('Debug in twin', vscode.TestRunProfileKind.Debug, async (request) => {
    for (const item of request.include ?? []) {
      if (item.uri && item.range) {
        await debugRun(send, [item.uri.toString(), { line: item.range.start.line, character: 0 }], output);
      }
    }
  });
  const atCursor = vscode.commands.registerCommand('twinls.debugAtCursor', async () => {
    const editor = vscode.window.activeTextEditor;
    if (editor) {
      const pos = editor.selection.active;
      await debugRun(send, [editor.document.uri.toString(), { line: pos.line, character: pos.character }], output);
    }
  });
  return [
    profile,
    atCursor,
    vscode.debug.registerDebugAdapterDescriptorFactory(DEBUG_TYPE, new AdapterAtAddress()),
    vscode.debug.registerDebugAdapterTrackerFactory(DEBUG_TYPE, tracker(output)),
  ];
}
