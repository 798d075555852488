// The workspace summary as the picture reads it: the answer of the server's
// `attune/workspaceSummary` request, and the JSON `attune scan --html` embeds
// (attune.models.overview.workspace_summary). Read leniently: a missing or odd field
// becomes a neutral value, so one bad entry never blanks the whole picture.

export interface FileSummary {
  /** Workspace-relative, with "/" separators. */
  path: string;
  /** The path's parent ("" at the root). */
  folder: string;
  language: string;
  lines: number;
  tokens: number;
  tokens_basis: string;
  calibrated: boolean;
  category: string;
  mode: string;
  generated: boolean;
  /** API dollars per task. */
  costs: Record<string, number>;
  /** attune.models.advice.lens_summary: the file's lens titles on one line. */
  lens: string;
}

export interface GroupTotals {
  files: number;
  tokens: number;
  costs: Record<string, number>;
}

export interface SummaryTotals {
  files: number;
  tokens: number;
  lines: number;
  by_mode: Record<string, GroupTotals>;
  by_category: Record<string, GroupTotals>;
}

export interface WorkspaceSummary {
  root: string;
  task: string;
  tasks: string[];
  modes_offered: string[];
  files: FileSummary[];
  totals: SummaryTotals;
  skipped: Array<{ path: string; reason: string }>;
}

type Dict = Record<string, unknown>;

const isDict = (v: unknown): v is Dict => typeof v === "object" && v !== null && !Array.isArray(v);
const str = (v: unknown): string => (typeof v === "string" ? v : "");
const num = (v: unknown): number => (typeof v === "number" && Number.isFinite(v) ? v : 0);
const strings = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === "string") : []);

function numbers(v: unknown): Record<string, number> {
  const out: Record<string, number> = {};
  if (isDict(v)) for (const [k, x] of Object.entries(v)) out[k] = num(x);
  return out;
}

function groups(v: unknown): Record<string, GroupTotals> {
  const out: Record<string, GroupTotals> = {};
  if (isDict(v)) {
    for (const [k, g] of Object.entries(v)) {
      if (isDict(g)) out[k] = { files: num(g.files), tokens: num(g.tokens), costs: numbers(g.costs) };
    }
  }
  return out;
}

function parentOf(path: string): string {
  const cut = path.lastIndexOf("/");
  return cut < 0 ? "" : path.slice(0, cut);
}

function file(v: Dict): FileSummary {
  const path = str(v.path);
  return {
    path,
    folder: typeof v.folder === "string" ? v.folder : parentOf(path),
    language: str(v.language),
    lines: num(v.lines),
    tokens: Math.max(0, num(v.tokens)),
    tokens_basis: str(v.tokens_basis),
    calibrated: v.calibrated === true,
    category: str(v.category),
    mode: str(v.mode),
    generated: v.generated === true,
    costs: numbers(v.costs),
    lens: str(v.lens),
  };
}

/** The summary from JSON; throws an Error naming what is missing when it is not one. */
export function parseSummary(raw: unknown): WorkspaceSummary {
  if (!isDict(raw) || !Array.isArray(raw.files)) throw new Error("the workspace summary has no list of files");
  const files = raw.files.filter(isDict).map(file).filter((f) => f.path !== "");
  const totals = isDict(raw.totals) ? raw.totals : {};
  const tasks = strings(raw.tasks);
  const task = str(raw.task) || tasks[0] || "";
  return {
    root: str(raw.root),
    task,
    tasks: tasks.length > 0 ? tasks : task ? [task] : [],
    modes_offered: strings(raw.modes_offered),
    files,
    totals: {
      files: num(totals.files),
      tokens: num(totals.tokens),
      lines: num(totals.lines),
      by_mode: groups(totals.by_mode),
      by_category: groups(totals.by_category),
    },
    skipped: Array.isArray(raw.skipped)
      ? raw.skipped.filter(isDict).map((s) => ({ path: str(s.path), reason: str(s.reason) }))
      : [],
  };
}
