// Debug runs: the `Debug` lens, the Testing view's Debug profile and `Twinls: Debug
// Test at Cursor` ask the server for `twinls.debug` (a warm run child waiting under
// debugpy, against the unsaved text) and attach VS Code's debugger to the address it
// answers with `vscode.debug.startDebugging` (debug type `debugpy`: the Python Debugger
// extension; it is not installable in this offline test setup, so the attach itself is
// tested over DAP from tests/test_debug.py).
import * as vscode from 'vscode';
import { ServerCommand } from './protocol';

export type Send = (command: string, args: unknown[]) => Promise<unknown>;

interface DebugAddress {
  host: string;
  port: number;
  pid: number;
  runId?: number;
}

export async function debugRun(send: Send, args: unknown[], output: vscode.LogOutputChannel): Promise<boolean> {
  const where = (await send(ServerCommand.debug, args)) as DebugAddress | undefined;
  if (!where || typeof where.port !== 'number') {
    return false;
  }
  output.info(`twinls: debug run child ${where.pid} waits at ${where.host}:${where.port}`);
  const folder = vscode.workspace.workspaceFolders?.[0];
  const started = await vscode.debug.startDebugging(folder, {
    type: 'debugpy',
    request: 'attach',
    name: 'twinls: Debug run',
    connect: { host: where.host, port: where.port },
    justMyCode: false,
  });
  if (!started) {
    void vscode.window.showWarningMessage(
      `twinls: the run waits for a debugger at ${where.host}:${where.port}; attaching needs the Python Debugger extension (debugpy).`,
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
  return [profile, atCursor];
}
