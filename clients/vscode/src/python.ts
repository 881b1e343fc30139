// The interpreter the Python extension selected, through its published API
// (@vscode/python-extension), and its change event. Without the extension
// (not installed, or not active in this window) there is no selection and the
// server chooses by itself (VIRTUAL_ENV, CONDA_PREFIX, .venv/venv, its own).
import * as vscode from 'vscode';
import { PythonExtension } from '@vscode/python-extension';

export class PythonSelection implements vscode.Disposable {
  private api: PythonExtension | undefined;
  private subscription: vscode.Disposable | undefined;

  constructor(private readonly output: vscode.LogOutputChannel) {}

  /** Connect to the Python extension once; `onChange` fires when the user picks another. */
  async connect(onChange: () => void): Promise<void> {
    if (this.api || !vscode.extensions.getExtension('ms-python.python')) {
      return;
    }
    try {
      this.api = await PythonExtension.api();
      this.subscription = this.api.environments.onDidChangeActiveEnvironmentPath((e) => {
        this.output.info(`the Python extension selected ${e.path}`);
        onChange();
      });
    } catch (err) {
      this.output.warn(`the Python extension's API is not available: ${String(err)}`);
    }
  }

  /** The selected interpreter's executable for a folder, or undefined. */
  async interpreter(folder: vscode.Uri | undefined): Promise<string | undefined> {
    const environments = this.api?.environments;
    if (!environments) {
      return undefined;
    }
    const selected = environments.getActiveEnvironmentPath(folder);
    try {
      const env = await environments.resolveEnvironment(selected);
      return env?.executable.uri?.fsPath ?? selected.path;
    } catch {
      return selected.path;
    }
  }

  dispose(): void {
    this.subscription?.dispose();
  }
}
