// A small stand-in for the `vscode` module, for unit tests in plain node: the test
// build (esbuild.mjs --tests) aliases "vscode" to this file. It implements only
// what src/ uses outside the language client, records what the code asks of the
// UI in `fake.calls`, and answers QuickPicks, messages and input boxes from the
// queues the test fills in `fake.answers`. Tests import `fake` from here.

export interface Call {
  api: string;
  args: unknown[];
}

type Answer = (...args: unknown[]) => unknown;

export const fake = {
  calls: [] as Call[],
  /** Per API ("showQuickPick", "showWarningMessage"...): answers used in order, then undefined. */
  answers: new Map<string, Answer[]>(),
  config: new Map<string, unknown>(),
  commands: new Map<string, (...args: unknown[]) => unknown>(),
  extensions: new Set<string>(),
  activeFile: undefined as string | undefined,
  statusItems: [] as FakeStatusBarItem[],
  /** Open documents (workspace.textDocuments): uri string -> languageId and unsaved changes. */
  documents: new Map<string, { languageId: string; isDirty: boolean }>(),
  workspaceFolder: undefined as string | undefined,
  /** withProgress: the token its task gets; cancel() cancels it. */
  progressToken: undefined as CancellationTokenSource | undefined,
  reset(): void {
    this.calls = [];
    this.answers = new Map();
    this.config = new Map();
    this.commands = new Map();
    this.extensions = new Set();
    this.activeFile = undefined;
    this.statusItems = [];
    this.documents = new Map();
    this.workspaceFolder = undefined;
    this.progressToken = undefined;
  },
  /** Queues answers for an API: values, or functions of the call's arguments. */
  answer(api: string, ...values: unknown[]): void {
    const queue = this.answers.get(api) ?? [];
    for (const v of values) queue.push(typeof v === "function" ? (v as Answer) : () => v);
    this.answers.set(api, queue);
  },
  callsOf(api: string): unknown[][] {
    return this.calls.filter((c) => c.api === api).map((c) => c.args);
  },
};

function ui(api: string) {
  return (...args: unknown[]): Promise<unknown> => {
    fake.calls.push({ api, args });
    const next = fake.answers.get(api)?.shift();
    return Promise.resolve(next ? next(...args) : undefined);
  };
}

export class Disposable {
  constructor(private readonly fn: () => void = () => undefined) {}
  dispose(): void {
    this.fn();
  }
}

export class EventEmitter<T> {
  private listeners: Array<(e: T) => void> = [];
  readonly event = (listener: (e: T) => void): Disposable => {
    this.listeners.push(listener);
    return new Disposable(() => (this.listeners = this.listeners.filter((l) => l !== listener)));
  };
  fire(e: T): void {
    for (const l of this.listeners) l(e);
  }
  dispose(): void {
    this.listeners = [];
  }
}

export class CancellationTokenSource {
  private readonly emitter = new EventEmitter<void>();
  readonly token = {
    isCancellationRequested: false,
    onCancellationRequested: this.emitter.event,
  };
  cancel(): void {
    this.token.isCancellationRequested = true;
    this.emitter.fire();
  }
}

export enum ProgressLocation {
  Notification = 15,
}

export class MarkdownString {
  supportThemeIcons = false;
  constructor(public value = "") {}
}

export class ThemeColor {
  constructor(public readonly id: string) {}
}

export enum StatusBarAlignment {
  Left = 1,
  Right = 2,
}

export enum ViewColumn {
  Beside = -2,
}

export enum ConfigurationTarget {
  Global = 1,
}

export enum LanguageStatusSeverity {
  Information = 0,
  Warning = 1,
  Error = 2,
}

export class Uri {
  private constructor(
    readonly scheme: string,
    readonly path: string,
  ) {}
  static parse(value: string): Uri {
    const m = /^([a-z][\w+.-]*):(?:\/\/[^/]*)?(.*)$/i.exec(value);
    return m ? new Uri(m[1], decodeURIComponent(m[2])) : new Uri("file", value);
  }
  static file(path: string): Uri {
    return new Uri("file", path);
  }
  static from(parts: { scheme: string; path?: string }): Uri {
    return new Uri(parts.scheme, parts.path ?? "");
  }
  get fsPath(): string {
    return this.path;
  }
  toString(): string {
    return `${this.scheme}://${this.path}`;
  }
}

export class FakeStatusBarItem {
  text = "";
  name: string | undefined;
  command: string | undefined;
  tooltip: MarkdownString | string | undefined;
  backgroundColor: ThemeColor | undefined;
  visible = false;
  disposed = false;
  constructor(
    readonly id: string,
    readonly alignment: StatusBarAlignment,
    readonly priority: number,
  ) {}
  show(): void {
    this.visible = true;
  }
  hide(): void {
    this.visible = false;
  }
  dispose(): void {
    this.disposed = true;
  }
}

export const window = {
  get activeTextEditor() {
    return fake.activeFile ? { document: { uri: Uri.parse(fake.activeFile) } } : undefined;
  },
  createStatusBarItem(id: string, alignment: StatusBarAlignment, priority: number): FakeStatusBarItem {
    const item = new FakeStatusBarItem(id, alignment, priority);
    fake.statusItems.push(item);
    return item;
  },
  showQuickPick: ui("showQuickPick"),
  showInputBox: ui("showInputBox"),
  showOpenDialog: ui("showOpenDialog"),
  showInformationMessage: ui("showInformationMessage"),
  showWarningMessage: ui("showWarningMessage"),
  showErrorMessage: ui("showErrorMessage"),
  showTextDocument: ui("showTextDocument"),
  /** Runs the task at once; its progress reports are recorded as "progress.report" calls. */
  withProgress<R>(options: unknown, task: (progress: { report(v: unknown): void }, token: unknown) => Promise<R>): Promise<R> {
    fake.calls.push({ api: "withProgress", args: [options] });
    fake.progressToken = new CancellationTokenSource();
    return task({ report: (v: unknown) => void fake.calls.push({ api: "progress.report", args: [v] }) }, fake.progressToken.token);
  },
  createTerminal(options: unknown) {
    fake.calls.push({ api: "createTerminal", args: [options] });
    return { show: () => void fake.calls.push({ api: "terminal.show", args: [] }) };
  },
};

export const env = {
  openExternal: ui("openExternal"),
};

export const workspace = {
  get workspaceFolders() {
    return fake.workspaceFolder ? [{ uri: Uri.file(fake.workspaceFolder) }] : undefined;
  },
  getWorkspaceFolder(uri: Uri) {
    const root = fake.workspaceFolder;
    return root && uri.fsPath.startsWith(root + "/") ? { uri: Uri.file(root) } : undefined;
  },
  get textDocuments() {
    return [...fake.documents].map(([uri, d]) => ({
      uri: Uri.parse(uri),
      languageId: d.languageId,
      isDirty: d.isDirty,
      save: () => {
        fake.calls.push({ api: "save", args: [uri] });
        d.isDirty = false;
        return Promise.resolve(true);
      },
    }));
  },
  getConfiguration(section?: string) {
    const full = (key: string) => (section ? `${section}.${key}` : key);
    return {
      get<T>(key: string): T | undefined {
        return fake.config.get(full(key)) as T | undefined;
      },
      update(key: string, value: unknown, target?: ConfigurationTarget): Promise<void> {
        fake.calls.push({ api: "updateConfiguration", args: [full(key), value, target] });
        fake.config.set(full(key), value);
        return Promise.resolve();
      },
    };
  },
  onDidSaveTextDocument: () => new Disposable(),
  registerTextDocumentContentProvider: (scheme: string, provider: unknown) => {
    fake.calls.push({ api: "registerTextDocumentContentProvider", args: [scheme, provider] });
    return new Disposable();
  },
  /** A file (its languageId from fake.documents) or, with {content, language}, a new untitled document. */
  openTextDocument: (target: Uri | { content: string; language: string }) => {
    fake.calls.push({ api: "openTextDocument", args: [target] });
    if (target instanceof Uri) return Promise.resolve({ uri: target, languageId: fake.documents.get(target.toString())?.languageId ?? "plaintext" });
    return Promise.resolve({ uri: Uri.from({ scheme: "untitled", path: "Untitled-1" }), languageId: target.language, content: target.content });
  },
};

export const languages = {
  setTextDocumentLanguage: ui("setTextDocumentLanguage"),
};

export const commands = {
  registerCommand(id: string, handler: (...args: unknown[]) => unknown): Disposable {
    if (fake.commands.has(id)) throw new Error(`command ${id} already registered`);
    fake.commands.set(id, handler);
    return new Disposable(() => fake.commands.delete(id));
  },
  executeCommand: ui("executeCommand"),
};

export const extensions = {
  getExtension(id: string) {
    return fake.extensions.has(id) ? { id, isActive: true, exports: {} } : undefined;
  },
};
