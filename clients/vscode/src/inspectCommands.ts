// Commands that open the inspector: on the result at the cursor (running it first,
// so the panel fills in when the run's promise completes) and on a Testing-view
// failure message whose run child is parked.
import * as vscode from 'vscode';
import { LanguageClient } from 'vscode-languageclient/node';
import { registerGuarded } from './errors';
import { Inspector, liveMessages } from './inspector';
import { ServerCommand, isRunResult } from './protocol';
import { TwinTests } from './tests';

export function registerInspectCommands(
  inspector: Inspector,
  tests: TwinTests,
  client: () => Promise<LanguageClient | undefined>,
): vscode.Disposable[] {
  const guard = registerGuarded;
  return [
    guard('twinls.inspectAtCursor', async () => {
      const editor = vscode.window.activeTextEditor;
      const c = editor && (await client());
      if (!editor || !c) {
        return;
      }
      const pos = editor.selection.active;
      const title = `${vscode.workspace.asRelativePath(editor.document.uri)}:${pos.line + 1}`;
      const args = [editor.document.uri.toString(), { line: pos.line, character: pos.character }];
      const handle = tests
        .track(`twinls: inspect ${title}`, () => c.sendRequest('workspace/executeCommand', { command: ServerCommand.runAt, arguments: args }))
        .then((result) => (isRunResult(result) ? (result.tests.find((t) => t.handle)?.handle ?? undefined) : undefined));
      await inspector.show(handle, title);
    }),
    // Testing view › a failure message's context menu / its peek's toolbar.
    guard('twinls.inspectFailure', async (arg?: unknown) => {
      const message = (arg as { message?: vscode.TestMessage } | undefined)?.message;
      const handle = message ? liveMessages.get(message) : undefined;
      const name = (arg as { test?: vscode.TestItem } | undefined)?.test?.label ?? 'failure';
      await inspector.show(handle, name);
    }),
  ];
}
