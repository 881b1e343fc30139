// Error messages that always offer the way to the details.
import * as vscode from 'vscode';

const SHOW_OUTPUT = 'Show Output';
const OPEN_SETTINGS = 'Open Settings';
const RESTART = 'Restart Twin';

export interface ErrorTargets {
  output: vscode.OutputChannel;
}

let targets: ErrorTargets | undefined;

export function setErrorTargets(t: ErrorTargets): void {
  targets = t;
}

/** Log it, then show it with buttons to the output channel (and settings, for config errors). */
export async function showError(message: string, opts: { settings?: boolean; restart?: boolean } = {}): Promise<void> {
  const log = targets?.output as vscode.LogOutputChannel | undefined;
  log?.error(message);
  const buttons = [SHOW_OUTPUT];
  if (opts.settings) {
    buttons.push(OPEN_SETTINGS);
  }
  if (opts.restart) {
    buttons.push(RESTART);
  }
  const choice = await vscode.window.showErrorMessage(message, ...buttons);
  if (choice === SHOW_OUTPUT) {
    targets?.output.show(true);
  } else if (choice === OPEN_SETTINGS) {
    await vscode.commands.executeCommand('workbench.action.openSettings', 'twinls');
  } else if (choice === RESTART) {
    await vscode.commands.executeCommand('twinls.restartTwin');
  }
}

/** Register command `id`; a failure is shown with the command's name, never left unhandled. */
export function registerGuarded(id: string, fn: (...args: unknown[]) => Promise<unknown>): vscode.Disposable {
  return vscode.commands.registerCommand(id, async (...args: unknown[]) => {
    try {
      await fn(...args);
    } catch (err) {
      void showError(`twinls: ${id.replace('twinls.', '')} failed: ${errorText(err)}`);
    }
  });
}

/** Text of any thrown value, including JSON-RPC errors from the server. */
export function errorText(err: unknown): string {
  if (err instanceof Error) {
    return err.message;
  }
  if (typeof err === 'object' && err !== null && 'message' in err) {
    return String((err as { message: unknown }).message);
  }
  return String(err);
}
