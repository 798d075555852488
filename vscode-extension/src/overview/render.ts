// The picture in the DOM: the header (task filter, totals per mode and size, legend,
// status), the folders' frames and one tile per file. Text goes in as textContent
// and positions through the CSSOM, so the webview's content security policy (no
// inline style attributes) holds.
import { formatCount, formatMoney } from "../common/format";
import { headerTotals, rowText } from "./totals";
import { SHADE_STEPS, tileColor } from "./style";
import type { WorkspaceSummary } from "./summary";
import { picture, type TileView } from "./tiles";

export interface ViewOptions {
  /** Opens a file (the webview); without it tiles are not clickable (the HTML report). */
  onOpen?: (path: string) => void;
  /** The task filter changed (the webview keeps it and asks the server with it). */
  onTaskChange?: (task: string) => void;
  /** Cancels the summary being computed. */
  onCancel?: () => void;
  task?: string;
}

function el<K extends keyof HTMLElementTagNameMap>(tag: K, className?: string, text?: string): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function swatch(color: string): HTMLElement {
  const s = el("span", "swatch");
  s.style.background = color;
  return s;
}

function place(node: HTMLElement, x: number, y: number, width: number, height: number): void {
  node.style.left = `${x}px`;
  node.style.top = `${y}px`;
  node.style.width = `${width}px`;
  node.style.height = `${height}px`;
}

export class OverviewView {
  private summary: WorkspaceSummary | undefined;
  private task: string | undefined;
  private readonly root = el("div", "attune-overview");
  private readonly title = el("h1", undefined, "Workspace overview");
  private readonly rootPath = el("span", "root");
  private readonly taskSelect = el("select");
  private readonly totals = el("div", "totals");
  private readonly legend = el("div", "legend");
  private readonly status = el("div", "status");
  private readonly map = el("div", "treemap");
  private readonly skipped = el("div");
  private readonly tooltip = el("div", "tooltip");
  private drawScheduled = false;

  constructor(
    host: HTMLElement,
    private readonly options: ViewOptions = {},
  ) {
    this.task = options.task;
    const titleRow = el("div", "title-row");
    const filter = el("label", "task-filter", "Cost of ");
    this.taskSelect.setAttribute("aria-label", "Task whose estimated cost shades the tiles");
    filter.append(this.taskSelect);
    titleRow.append(this.title, this.rootPath, filter);
    const head = el("header");
    head.append(titleRow, this.totals, this.legend, this.status);
    this.status.setAttribute("role", "status");
    this.map.setAttribute("role", "group");
    this.map.setAttribute("aria-label", "Files grouped by folder: area is tokens, colour the recommended mode, shade the cost");
    this.tooltip.setAttribute("role", "tooltip");
    this.tooltip.hidden = true;
    this.root.append(head, this.map, this.skipped, this.tooltip);
    host.append(this.root);

    this.taskSelect.addEventListener("change", () => {
      this.task = this.taskSelect.value;
      this.options.onTaskChange?.(this.task);
      this.render();
    });
    this.map.addEventListener("mouseleave", () => (this.tooltip.hidden = true));
    new ResizeObserver(() => this.scheduleDraw()).observe(this.map);
  }

  /** The task whose cost shades the tiles: the user's pick if the summary has it, else the summary's. */
  currentTask(): string {
    const s = this.summary;
    if (!s) return this.task ?? "";
    return this.task && s.tasks.includes(this.task) ? this.task : s.task;
  }

  show(summary: WorkspaceSummary): void {
    this.summary = summary;
    this.render();
  }

  setStatus(text: string, kind: "busy" | "error" | "info" = "info"): void {
    this.status.replaceChildren(el("span", undefined, text));
    this.status.classList.toggle("error", kind === "error");
    if (kind === "busy" && this.options.onCancel) {
      const cancel = el("button", undefined, "Cancel");
      cancel.addEventListener("click", () => this.options.onCancel?.());
      this.status.append(cancel);
    }
  }

  private render(): void {
    const s = this.summary;
    if (!s) return;
    const task = this.currentTask();
    this.rootPath.textContent = s.root;
    this.taskSelect.replaceChildren(...s.tasks.map((t) => Object.assign(el("option", undefined, t), { value: t })));
    this.taskSelect.value = task;

    const t = headerTotals(s, task);
    const group = (heading: string, rows: HTMLElement[]) => {
      const g = el("div", "group");
      const list = el("ul");
      list.append(...rows);
      g.append(el("h2", undefined, heading), list);
      return g;
    };
    const modeRows = t.modes.map((r) => {
      const li = el("li", undefined, rowText(r));
      li.prepend(swatch(tileColor(r.key, SHADE_STEPS - 1)));
      return li;
    });
    const categoryRows = t.categories.map((r) => el("li", undefined, rowText(r)));
    const all = [`${formatCount(t.overall.files)} files`, `${formatCount(t.overall.lines)} lines`, `${formatCount(t.overall.tokens)} tokens`];
    if (t.overall.cost !== undefined) all.push(`${formatMoney(t.overall.cost)} to ${task} them all on the API`);
    this.totals.replaceChildren(
      group("By recommended mode", modeRows),
      group("By size", categoryRows),
      group("Workspace", [el("li", undefined, all.join(" · "))]),
    );

    const shadeMode = t.modes[0]?.key ?? "api";
    this.legend.replaceChildren(
      el("span", undefined, `Area: tokens · Colour: recommended mode · Shade: estimated cost of ${task}, cheaper`),
      ...Array.from({ length: SHADE_STEPS }, (_, level) => swatch(tileColor(shadeMode, level))),
      el("span", undefined, "costlier"),
    );

    this.skipped.replaceChildren();
    if (s.skipped.length > 0) {
      const details = el("details");
      const list = el("ul");
      list.append(...s.skipped.map((k) => el("li", undefined, `${k.path}: ${k.reason}`)));
      details.append(el("summary", undefined, `${s.skipped.length} ${s.skipped.length === 1 ? "file" : "files"} not counted`), list);
      this.skipped.append(details);
    }
    this.draw();
  }

  private scheduleDraw(): void {
    if (this.drawScheduled) return;
    this.drawScheduled = true;
    requestAnimationFrame(() => {
      this.drawScheduled = false;
      this.draw();
    });
  }

  private draw(): void {
    const s = this.summary;
    if (!s) return;
    if (s.files.length === 0) {
      this.map.replaceChildren(el("div", "empty", `No source files in ${s.root || "this folder"}.`));
      return;
    }
    const { clientWidth: width, clientHeight: height } = this.map;
    if (width < 2 || height < 2) return; // not laid out yet (a webview still loading): the resize observer draws
    const { tiles, folders } = picture(s, this.currentTask(), width, height);
    const nodes: HTMLElement[] = folders.map((f) => {
      const frame = el("div", "folder");
      frame.dataset.folder = f.path;
      place(frame, f.x0, f.y0, f.x1 - f.x0, f.y1 - f.y0);
      if (f.labelled) frame.append(el("span", "folder-name", `${f.name}/`));
      return frame;
    });
    nodes.push(...tiles.map((t) => this.tile(t)));
    this.map.replaceChildren(...nodes);
  }

  private tile(t: TileView): HTMLElement {
    const tile = el("div", "tile", t.showName ? t.name : undefined);
    tile.dataset.path = t.path;
    tile.dataset.mode = t.mode;
    tile.setAttribute("aria-label", t.ariaLabel);
    tile.tabIndex = 0;
    place(tile, t.x, t.y, t.width, t.height);
    tile.style.background = t.background;
    const show = (x: number, y: number) => this.showTooltip(t.hover, x, y);
    tile.addEventListener("mousemove", (e) => show(e.clientX, e.clientY));
    tile.addEventListener("focus", () => {
      const r = tile.getBoundingClientRect();
      show(r.left + r.width / 2, r.top + r.height / 2);
    });
    tile.addEventListener("blur", () => (this.tooltip.hidden = true));
    const open = this.options.onOpen;
    if (open) {
      tile.classList.add("clickable");
      tile.setAttribute("role", "button");
      tile.addEventListener("click", () => open(t.path));
      tile.addEventListener("keydown", (e) => {
        if (e.key === "Enter" || e.key === " ") {
          e.preventDefault();
          open(t.path);
        }
      });
    } else {
      tile.setAttribute("role", "img");
    }
    return tile;
  }

  private showTooltip(text: string, x: number, y: number): void {
    const tip = this.tooltip;
    tip.textContent = text;
    tip.hidden = false;
    // Measured at the top left, where nothing squeezes it, then placed by the pointer.
    tip.style.left = "0px";
    tip.style.top = "0px";
    const w = tip.offsetWidth;
    const h = tip.offsetHeight;
    tip.style.left = `${Math.max(0, Math.min(x + 14, window.innerWidth - w - 4))}px`;
    tip.style.top = `${Math.max(0, y + 18 + h > window.innerHeight ? y - h - 8 : y + 18)}px`;
  }
}

