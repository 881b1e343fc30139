// "Twinls Results": a tree of locations that fills while a search streams.
import * as path from 'node:path';
import * as vscode from 'vscode';

export const VIEW_ID = 'twinls.results';
const HAS_RESULTS = 'twinls.hasResults';

class FileNode {
  readonly locations: vscode.Location[] = [];
  constructor(readonly uri: vscode.Uri) {}
}

type Node = FileNode | vscode.Location;

/** One search's results; `add` may be called many times while it runs. */
export interface ResultSink {
  add(locations: vscode.Location[]): void;
  done(error?: string): void;
  readonly count: number;
}

export class ResultsView implements vscode.TreeDataProvider<Node>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<Node | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  private readonly view: vscode.TreeView<Node>;
  private files = new Map<string, FileNode>();
  private lines = new Map<string, string[]>();
  private generation = 0;

  constructor() {
    this.view = vscode.window.createTreeView(VIEW_ID, { treeDataProvider: this, showCollapseAll: true });
  }

  /** Clear the view and start showing a new search titled `title`. */
  begin(title: string): ResultSink {
    const generation = ++this.generation;
    this.files = new Map();
    this.lines = new Map();
    let count = 0;
    let pending: ReturnType<typeof setTimeout> | undefined;
    const show = (state: string): void => {
      const files = this.files.size;
      this.view.message = `${title} — ${count} result${count === 1 ? '' : 's'} in ${files} file${files === 1 ? '' : 's'}${state}`;
      this.changed.fire(undefined);
    };
    show(' (searching…)');
    // The view is hidden until there are results: show it, then reveal it.
    void vscode.commands
      .executeCommand('setContext', HAS_RESULTS, true)
      .then(() => vscode.commands.executeCommand(`${VIEW_ID}.focus`));
    return {
      get count() {
        return count;
      },
      add: (locations) => {
        if (generation !== this.generation) {
          return; // a newer search took the view
        }
        for (const loc of locations) {
          const key = loc.uri.toString();
          let file = this.files.get(key);
          if (!file) {
            file = new FileNode(loc.uri);
            this.files.set(key, file);
          }
          if (!file.locations.some((l) => l.range.isEqual(loc.range))) {
            file.locations.push(loc);
            count++;
          }
        }
        // Batches can come fast: redraw at most every 50 ms.
        pending ??= setTimeout(() => {
          pending = undefined;
          if (generation === this.generation) {
            show(' (searching…)');
          }
        }, 50);
      },
      done: (error) => {
        if (pending) {
          clearTimeout(pending);
          pending = undefined;
        }
        if (generation === this.generation) {
          show(error ? ` — failed: ${error}` : '');
        }
      },
    };
  }

  clear(): void {
    this.generation++;
    this.files = new Map();
    this.view.message = undefined;
    void vscode.commands.executeCommand('setContext', HAS_RESULTS, false);
    this.changed.fire(undefined);
  }

  getChildren(node?: Node): Node[] | Promise<Node[]> {
    if (!node) {
      return [...this.files.values()].sort((a, b) => a.uri.fsPath.localeCompare(b.uri.fsPath));
    }
    if (node instanceof FileNode) {
      return this.loadLines(node.uri).then(() =>
        [...node.locations].sort((a, b) => a.range.start.compareTo(b.range.start)),
      );
    }
    return [];
  }

  getTreeItem(node: Node): vscode.TreeItem {
    if (node instanceof FileNode) {
      const item = new vscode.TreeItem(node.uri, vscode.TreeItemCollapsibleState.Expanded);
      item.description = `${vscode.workspace.asRelativePath(path.dirname(node.uri.fsPath))} · ${node.locations.length}`;
      return item;
    }
    const start = node.range.start;
    const text = this.lines.get(node.uri.toString())?.[start.line]?.trim() ?? '';
    const item = new vscode.TreeItem(text || `line ${start.line + 1}`, vscode.TreeItemCollapsibleState.None);
    item.description = `${start.line + 1}:${start.character + 1}`;
    item.tooltip = `${node.uri.fsPath}:${start.line + 1}:${start.character + 1}`;
    item.command = { command: 'vscode.open', title: 'Open', arguments: [node.uri, { selection: node.range }] };
    return item;
  }

  /** Line previews, from the editor's (maybe unsaved) text, else disk. */
  private async loadLines(uri: vscode.Uri): Promise<void> {
    const key = uri.toString();
    if (this.lines.has(key)) {
      return;
    }
    const open = vscode.workspace.textDocuments.find((d) => d.uri.toString() === key);
    let text = open?.getText();
    if (text === undefined) {
      try {
        text = new TextDecoder().decode(await vscode.workspace.fs.readFile(uri));
      } catch {
        text = '';
      }
    }
    this.lines.set(key, text.split(/\r?\n/));
  }

  dispose(): void {
    this.view.dispose();
    this.changed.dispose();
  }
}
