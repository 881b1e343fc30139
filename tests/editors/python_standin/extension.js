// A stand-in for the Python extension (ms-python.python) in the twinls VS Code e2e test.
// It implements the part of the published API (@vscode/python-extension) that twinls
// calls: environments.getActiveEnvironmentPath(resource), resolveEnvironment and the
// onDidChangeActiveEnvironmentPath event, per workspace folder as the real extension
// selects. The selection is the resource-scoped setting `twinlsStandin.interpreter`
// (a folder's own value, else the window's), changed by the test through the setting
// or the "Stand-in Python: Select Interpreter" command (the window's, or a folder's).
const vscode = require('vscode');

function activate(context) {
  const changed = new vscode.EventEmitter();
  const key = (folder) => (folder ? folder.uri.toString() : '');
  const fromSetting = (folder) =>
    vscode.workspace.getConfiguration('twinlsStandin', folder?.uri).get('interpreter') || '';
  const picked = new Map(); // folder key -> a path chosen by the command (over the setting)
  const current = new Map(); // folder key -> what was last reported
  const selected = (folder) => picked.get(key(folder)) ?? fromSetting(folder);
  const scopes = () => [undefined, ...(vscode.workspace.workspaceFolders ?? [])];
  for (const folder of scopes()) current.set(key(folder), selected(folder));
  const announce = () => {
    for (const folder of scopes()) {
      const path = selected(folder);
      if (current.get(key(folder)) !== path) {
        current.set(key(folder), path);
        changed.fire({ id: path, path, resource: folder });
      }
    }
  };
  context.subscriptions.push(
    changed,
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration('twinlsStandin.interpreter')) announce();
    }),
    vscode.commands.registerCommand('twinlsStandin.selectInterpreter', async () => {
      const path = await vscode.window.showInputBox({ title: 'Stand-in Python: interpreter path' });
      if (!path) return;
      const folders = vscode.workspace.workspaceFolders ?? [];
      const folder = folders.length > 1 ? await vscode.window.showWorkspaceFolderPick() : undefined;
      if (folder) {
        picked.set(key(folder), path);
      } else {
        for (const scope of scopes()) picked.set(key(scope), path);
      }
      announce();
    }),
  );
  const folderOf = (resource) =>
    resource === undefined
      ? undefined
      : resource.uri && resource.name !== undefined
        ? resource
        : vscode.workspace.getWorkspaceFolder(resource);
  const environments = {
    getActiveEnvironmentPath: (resource) => {
      const path = selected(folderOf(resource));
      return { id: path, path };
    },
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
