// A stand-in for the Python extension (ms-python.python) in the twinls VS Code e2e test.
// It implements the part of the published API (@vscode/python-extension) that twinls
// calls: environments.getActiveEnvironmentPath, resolveEnvironment and the
// onDidChangeActiveEnvironmentPath event. The selection is a setting, changed by the
// test through the setting or the "Stand-in Python: Select Interpreter" command.
const vscode = require('vscode');

function activate(context) {
  const changed = new vscode.EventEmitter();
  const selected = () => vscode.workspace.getConfiguration('twinlsStandin').get('interpreter') || '';
  let current = selected();
  const fire = (path) => {
    current = path;
    changed.fire({ id: path, path, resource: vscode.workspace.workspaceFolders?.[0] });
  };
  context.subscriptions.push(
    changed,
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration('twinlsStandin.interpreter') && selected() !== current) fire(selected());
    }),
    vscode.commands.registerCommand('twinlsStandin.selectInterpreter', async () => {
      const path = await vscode.window.showInputBox({ title: 'Stand-in Python: interpreter path' });
      if (path) fire(path);
    }),
  );
  const environments = {
    getActiveEnvironmentPath: () => ({ id: current, path: current }),
    resolveEnvironment: async (env) => {
      const path = typeof env === 'string' ? env : env.path;
      return path ? { id: path, path, executable: { uri: vscode.Uri.file(path) } } : undefined;
    },
    onDidChangeActiveEnvironmentPath: changed.event,
    known: [],
    refreshEnvironments: async () => {},
  };
  return { ready: Promise.resolve(), environments };
}

module.exports = { activate, deactivate() {} };
