// What each tile shows: where it is, its colour and shade, the name on it, and its
// accessible label and hover text (the file's lens).
import { formatMoney } from "../common/format";
import { layoutTreemap, type FolderRect } from "./layout";
import { shadeLevel, tileColor } from "./style";
import type { FileSummary, WorkspaceSummary } from "./summary";

export interface TileView {
  path: string;
  /** The file name drawn on the tile when it fits. */
  name: string;
  x: number;
  y: number;
  width: number;
  height: number;
  mode: string;
  level: number;
  background: string;
  /** The path and the file's lens text. */
  ariaLabel: string;
  /** The hover text: the lens, then the selected task's cost when it is not the lens's task. */
  hover: string;
  showName: boolean;
}

export interface Picture {
  tiles: TileView[];
  folders: FolderRect[];
}

/** A tile needs this much room, in pixels, for its name. */
const NAME_WIDTH = 44;
const NAME_HEIGHT = 16;

export function ariaLabel(file: FileSummary): string {
  return file.lens ? `${file.path} — ${file.lens}` : `${file.path} — ${file.lines} lines`;
}

export function hoverText(file: FileSummary, task: string, lensTask: string): string {
  const lines = [file.path, file.lens || `${file.lines} lines`];
  const cost = file.costs[task];
  if (task !== lensTask && cost !== undefined) lines.push(`${task}: API ≈ ${formatMoney(cost)}`);
  return lines.join("\n");
}

export function picture(summary: WorkspaceSummary, task: string, width: number, height: number): Picture {
  const { tiles, folders } = layoutTreemap(summary.files, width, height);
  const maxCost = Math.max(0, ...summary.files.map((f) => f.costs[task] ?? 0));
  return {
    folders,
    tiles: tiles.map(({ file, x0, y0, x1, y1 }) => {
      const level = shadeLevel(file.costs[task], maxCost);
      return {
        path: file.path,
        name: file.path.slice(file.path.lastIndexOf("/") + 1),
        x: x0,
        y: y0,
        width: x1 - x0,
        height: y1 - y0,
        mode: file.mode,
        level,
        background: tileColor(file.mode, level),
        ariaLabel: ariaLabel(file),
        hover: hoverText(file, task, summary.task),
        showName: x1 - x0 >= NAME_WIDTH && y1 - y0 >= NAME_HEIGHT,
      };
    }),
  };
}
