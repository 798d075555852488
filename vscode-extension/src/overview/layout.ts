// The treemap: d3-hierarchy's squarified layout of every file, nested by folder.
// A tile's area follows its tokens; a file with 0 (or very few) tokens still gets a
// twentieth of an average file's area, so no file the scan lists ever disappears and
// all such floors together never take more than 1/20 of the picture.
import { hierarchy, treemap, treemapSquarify, type HierarchyNode, type HierarchyRectangularNode } from "d3-hierarchy";
import type { FileSummary } from "./summary";

/** The least area a file gets, as a share of an average file's. */
export const MIN_AVERAGE_SHARE = 1 / 20;
/** Height of a folder's name strip, in pixels; drawn only where the folder is large enough. */
export const FOLDER_LABEL = 16;
/** Space between a folder's frame and its contents. */
export const FOLDER_PADDING = 2;

export interface Rect {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
}

export interface TileRect extends Rect {
  file: FileSummary;
}

export interface FolderRect extends Rect {
  /** Workspace-relative folder path ("" is the workspace itself, never drawn). */
  path: string;
  name: string;
  depth: number;
  /** True when the folder had room for its name strip. */
  labelled: boolean;
}

export interface Layout {
  tiles: TileRect[];
  folders: FolderRect[];
}

interface Node {
  name: string;
  path: string;
  file?: FileSummary;
  children?: Node[];
}

function folderTree(files: readonly FileSummary[]): Node {
  const root: Node = { name: "", path: "", children: [] };
  const folders = new Map<string, Node>([["", root]]);
  const folderNode = (path: string): Node => {
    const known = folders.get(path);
    if (known) return known;
    const cut = path.lastIndexOf("/");
    const parent = folderNode(cut < 0 ? "" : path.slice(0, cut));
    const node: Node = { name: cut < 0 ? path : path.slice(cut + 1), path, children: [] };
    parent.children?.push(node);
    folders.set(path, node);
    return node;
  };
  for (const file of files) {
    const name = file.path.slice(file.path.lastIndexOf("/") + 1);
    folderNode(file.folder).children?.push({ name, path: file.path, file });
  }
  return root;
}

/** The weight a file's tile gets: its tokens, never less than the minimal area. */
export function tileWeight(tokens: number, totalTokens: number, fileCount: number): number {
  const floor = totalTokens > 0 ? (totalTokens / Math.max(1, fileCount)) * MIN_AVERAGE_SHARE : 1;
  return Math.max(tokens, floor);
}

const roomForLabel = (n: Rect) => n.y1 - n.y0 > 3 * FOLDER_LABEL && n.x1 - n.x0 > 48;

/** Lays every file out in a width × height rectangle, largest first, folders nested. */
export function layoutTreemap(files: readonly FileSummary[], width: number, height: number): Layout {
  const total = files.reduce((sum, f) => sum + f.tokens, 0);
  const root: HierarchyNode<Node> = hierarchy(folderTree(files))
    .sum((n) => (n.file ? tileWeight(n.file.tokens, total, files.length) : 0))
    .sort((a, b) => (b.value ?? 0) - (a.value ?? 0) || a.data.path.localeCompare(b.data.path));
  // Padding only where a folder has room for it, so small folders keep their tiles' area.
  const padded = (n: HierarchyRectangularNode<Node>) => (n.depth > 0 && roomForLabel(n) ? FOLDER_PADDING : 0);
  const laid = treemap<Node>()
    .tile(treemapSquarify)
    .size([Math.max(1, width), Math.max(1, height)])
    .paddingTop((n) => (n.depth > 0 && roomForLabel(n) ? FOLDER_LABEL : 0))
    .paddingRight(padded)
    .paddingBottom(padded)
    .paddingLeft(padded)(root);

  const tiles: TileRect[] = [];
  const folders: FolderRect[] = [];
  for (const n of laid.descendants()) {
    const { x0, y0, x1, y1 } = n;
    if (n.data.file) tiles.push({ file: n.data.file, x0, y0, x1, y1 });
    else if (n.depth > 0) folders.push({ path: n.data.path, name: n.data.name, depth: n.depth, labelled: roomForLabel(n), x0, y0, x1, y1 });
  }
  return { tiles, folders };
}
