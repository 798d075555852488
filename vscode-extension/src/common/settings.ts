// What the server receives as initializationOptions / didChangeConfiguration
// (section "attune"): the lens settings, with the documented defaults.

export interface LensSettings {
  enabled: boolean;
  debounceMs: number;
  maxFileSizeMB: number;
  show: Array<"size" | "mode" | "cost">;
}

export interface ServerSettings {
  lens: LensSettings;
  /** The extension renders showDetails' answer itself, so the server's own pop-up is off. */
  details: { showMessage: boolean };
}

export const DEFAULT_LENS: LensSettings = { enabled: true, debounceMs: 300, maxFileSizeMB: 5, show: ["size", "mode", "cost"] };

type Getter = <T>(key: string) => T | undefined;

/** Reads `attune.lens.*` through `get` (WorkspaceConfiguration.get in the extension). */
export function serverSettings(get: Getter): ServerSettings {
  const num = (key: string, fallback: number) => {
    const v = get<number>(key);
    return typeof v === "number" && Number.isFinite(v) && v >= 0 ? v : fallback;
  };
  const show = get<string[]>("lens.show");
  const valid = Array.isArray(show) ? show.filter((s): s is "size" | "mode" | "cost" => ["size", "mode", "cost"].includes(s)) : undefined;
  return {
    lens: {
      enabled: get<boolean>("lens.enabled") !== false,
      debounceMs: num("lens.debounceMs", DEFAULT_LENS.debounceMs),
      maxFileSizeMB: num("lens.maxFileSizeMB", DEFAULT_LENS.maxFileSizeMB),
      show: valid ?? [...DEFAULT_LENS.show],
    },
    details: { showMessage: false },
  };
}

/** Settings whose change needs a new server process (the rest are sent live). */
export const RESTART_SETTINGS = ["attune.interpreter"];

/** The server parses `python -c` output "3.11.2"; returns [major, minor] or undefined. */
export function parsePythonVersion(output: string): [number, number, number] | undefined {
  const m = /(\d+)\.(\d+)\.(\d+)/.exec(output);
  return m ? [Number(m[1]), Number(m[2]), Number(m[3])] : undefined;
}

/** The oldest Python the server runs on (pyproject's requires-python): the line
 * counter's patterns use atomic groups and possessive quantifiers, new in 3.11's re. */
export const MIN_PYTHON: [number, number] = [3, 11];
export const MIN_PYTHON_TEXT = MIN_PYTHON.join(".");

export function isSupportedPython(v: [number, number, number] | undefined): boolean {
  return !!v && (v[0] > MIN_PYTHON[0] || (v[0] === MIN_PYTHON[0] && v[1] >= MIN_PYTHON[1]));
}

/** The error shown for an interpreter older than MIN_PYTHON (or whose version is unreadable). */
export function tooOldProblem(version: [number, number, number] | undefined, command: string): string {
  return `Python ${version ? version.join(".") : "(unknown version)"} at "${command}" is too old: Attune needs Python ${MIN_PYTHON_TEXT} or newer.`;
}

export type LaunchPlan =
  | { kind: "bundled" }
  | { kind: "installed" }
  | { kind: "error"; problem: string };

/**
 * Whether the server runs from bundled/libs or from the interpreter's own
 * attune-companion. `bundlePythons`: the "major.minor" versions bundled/libs has
 * binaries for (bundled/libs/attune_bundle.json); undefined when there is no
 * bundle (a development checkout).
 */
export function launchPlan(
  version: [number, number, number],
  bundlePythons: string[] | undefined,
  hasInstalledServer: boolean,
  platform: string,
): LaunchPlan {
  const mm = `${version[0]}.${version[1]}`;
  if (bundlePythons?.includes(mm)) return { kind: "bundled" };
  if (hasInstalledServer) return { kind: "installed" };
  const problem = bundlePythons
    ? `Python ${mm} cannot run the libraries bundled in this extension (built for Python ${bundlePythons.join(", ")} on ${platform}). ` +
      "Select one of those interpreters, or install the server into this one: pip install attune-companion."
    : `This extension has no bundled libraries and Python ${mm} does not have attune-companion: pip install attune-companion.`;
  return { kind: "error", problem };
}
