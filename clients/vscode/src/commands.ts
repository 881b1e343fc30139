// The palette commands. Their ids differ from the server's (twinls.status, …),
// which vscode-languageclient registers as VS Code commands itself.
import * as vscode from 'vscode';
import { LanguageClient } from 'vscode-languageclient/node';
import { errorText, registerGuarded } from './errors';
import { InterpreterInfo, ServerCommand, StatusResult } from './protocol';
import { ResultsView } from './resultsView';
import { streamImplementations, streamImplementors, streamReferences } from './streaming';
import { TwinTests } from './tests';

export interface CommandContext {
  /** The running client, or undefined (after an error already shown). */
  client(): Promise<LanguageClient | undefined>;
  results: ResultsView;
  tests: TwinTests;
  output: vscode.LogOutputChannel;
  /** Stop and start the server (used when the twin pool itself cannot recover). */
  restartServer(): Promise<void>;
}

export function registerCommands(ctx: CommandContext): vscode.Disposable[] {
  const register = registerGuarded;

  return [
    register('twinls.findImplementorsPrompt', async () => {
      const editor = vscode.window.activeTextEditor;
      const word = editor ? wordAt(editor) : undefined;
      const name = await vscode.window.showInputBox({
        title: 'Twinls: Find Implementors',
        prompt: 'Every function or method with this name in the workspace',
        value: word,
        placeHolder: 'method name, e.g. area',
        validateInput: (v) => (/^[A-Za-z_]\w*$/.test(v.trim()) ? undefined : 'A Python identifier'),
      });
      const client = name ? await ctx.client() : undefined;
      if (client && name) {
        await search(ctx, `Implementors of ${name.trim()}`, (onBatch, cancel) =>
          streamImplementors(client, name.trim(), onBatch, cancel),
        );
      }
    }),

    register('twinls.findReferencesStreaming', async () => {
      const editor = pythonEditor();
      const client = editor && (await ctx.client());
      if (editor && client) {
        const pos = editor.selection.active;
        await search(ctx, `References to ${wordAt(editor) ?? 'symbol'}`, (onBatch, cancel) =>
          streamReferences(client, editor.document, pos, onBatch, cancel),
        );
      }
    }),

    register('twinls.findImplementationsStreaming', async () => {
      const editor = pythonEditor();
      const client = editor && (await ctx.client());
      if (editor && client) {
        const pos = editor.selection.active;
        await search(ctx, `Implementations of ${wordAt(editor) ?? 'symbol'}`, (onBatch, cancel) =>
          streamImplementations(client, editor.document, pos, onBatch, cancel),
        );
      }
    }),

    register('twinls.runTestAtCursor', async () => {
      const editor = pythonEditor();
      const client = editor && (await ctx.client());
      if (editor && client) {
        const pos = editor.selection.active;
        const args = [editor.document.uri.toString(), { line: pos.line, character: pos.character }];
        await ctx.tests.track(`twinls: run at ${vscode.workspace.asRelativePath(editor.document.uri)}:${pos.line + 1}`, () =>
          client.sendRequest('workspace/executeCommand', { command: ServerCommand.runAt, arguments: args }),
        );
      }
    }),

    // Explorer › a folder's context menu, or the palette (the whole workspace).
    register('twinls.runTestsInFolder', async (folder?: unknown) => {
      const client = await ctx.client();
      if (!client) {
        return;
      }
      const uri = folder instanceof vscode.Uri ? folder : undefined;
      const name = uri ? vscode.workspace.asRelativePath(uri) : 'workspace';
      await ctx.tests.track(`twinls: run ${name}`, () =>
        client.sendRequest('workspace/executeCommand', { command: ServerCommand.runFolder, arguments: uri ? [uri.toString()] : [] }),
      );
    }),

    register('twinls.restartTwin', async () => {
      const client = await ctx.client();
      if (!client) {
        return ctx.restartServer();
      }
      await client.sendRequest('workspace/executeCommand', { command: ServerCommand.restart, arguments: [] });
      void vscode.window.setStatusBarMessage('$(sync) twinls: twin restarting', 5000);
    }),

    register('twinls.showTwinStatus', async () => {
      const client = await ctx.client();
      if (!client) {
        return;
      }
      const status = (await client.sendRequest('workspace/executeCommand', {
        command: ServerCommand.status,
        arguments: [],
      })) as StatusResult;
      ctx.output.info(`status: ${JSON.stringify(status, null, 2)}`);
      const summary = describeStatus(status);
      const choice = await vscode.window.showInformationMessage(summary, 'Show Details');
      if (choice) {
        const doc = await vscode.workspace.openTextDocument({ language: 'json', content: JSON.stringify(status, null, 2) });
        await vscode.window.showTextDocument(doc, { preview: true });
      }
    }),

    register('twinls.showOutput', async () => ctx.output.show(true)),
    register('twinls.clearResults', async () => ctx.results.clear()),
  ];
}

type Stream = (onBatch: (l: vscode.Location[]) => void, cancel: vscode.CancellationToken) => Promise<void>;

/** Stream a search into the results view, with a cancellable notification. */
async function search(ctx: CommandContext, title: string, run: Stream): Promise<void> {
  const sink = ctx.results.begin(title);
  try {
    await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `twinls: ${title}…`, cancellable: true },
      async (progress, cancel) => {
        await run((batch) => {
          sink.add(batch);
          progress.report({ message: `${sink.count} found` });
        }, cancel);
      },
    );
    sink.done();
    ctx.output.info(`${title}: ${sink.count} results`);
  } catch (err) {
    sink.done(errorText(err));
    throw err;
  }
}

export function describeStatus(status: StatusResult): string {
  const pool = status.pool;
  const gaveUp = pool.gave_up.length ? `, gave up on slot ${pool.gave_up.join(', ')}` : '';
  const twins = status.twins
    .map((t) => `pid ${t.pid} at seq ${t.seq}${t.remote ? ` on ${t.remote}` : ''}`)
    .join('; ');
  const interp = status.server.interpreter;
  const byRoot = Object.entries(status.server.interpreters_by_root ?? {});
  const python =
    byRoot.length > 1
      ? byRoot.map(([root, i]) => `; folder ${root}: ${describePython(i)}`).join('')
      : interp
        ? `; ${describePython(interp)}`
        : '';
  const sized = pool.sizing ? `; size: ${pool.sizing.reason}` : '';
  return `twinls: server pid ${status.server.pid} at seq ${status.server.seq}; ${pool.live}/${pool.size} twins live${gaveUp}${twins ? ` (${twins})` : ''}${python}${sized}`;
}

/** One folder's interpreter: its version, where the choice came from, whose pytest. */
export function describePython(interp: Partial<InterpreterInfo>): string {
  return interp.error
    ? `Python: ${interp.error}`
    : `Python ${(interp.version ?? '?').split(' ')[0]} (${interp.source}: ${interp.path}; pytest from ${interp.pytest?.source ?? '?'})`;
}

function pythonEditor(): vscode.TextEditor | undefined {
  const editor = vscode.window.activeTextEditor;
  if (!editor || editor.document.languageId !== 'python') {
    void vscode.window.showWarningMessage('twinls: open a Python file and put the cursor on a name first.');
    return undefined;
  }
  return editor;
}

function wordAt(editor: vscode.TextEditor): string | undefined {
  const range = editor.document.getWordRangeAtPosition(editor.selection.active);
  return range ? editor.document.getText(range) : undefined;
}
