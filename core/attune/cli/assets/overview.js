// Attune Companion: the workspace overview's page script, built from vscode-extension/src/overview
// by vscode-extension/esbuild.mjs (npm run compile); do not edit. Includes d3-hierarchy
// (ISC License, Copyright 2010-2026 Mike Bostock).
"use strict";
(() => {
  // src/overview/css.ts
  var OVERVIEW_CSS = `
html, body { margin: 0; padding: 0; height: 100%; }
body {
  background: var(--vscode-editor-background, #ffffff);
  color: var(--vscode-foreground, #1f1f1f);
  font-family: var(--vscode-font-family, system-ui, -apple-system, "Segoe UI", sans-serif);
  font-size: var(--vscode-font-size, 13px);
}
.attune-overview { display: flex; flex-direction: column; height: 100vh; box-sizing: border-box; padding: 8px 12px; gap: 6px; }
.attune-overview h1 { font-size: 1.25em; font-weight: 600; margin: 0; }
.attune-overview h2 { font-size: 1em; font-weight: 600; margin: 0 0 2px; opacity: 0.8; }
.attune-overview .title-row { display: flex; align-items: baseline; gap: 12px; flex-wrap: wrap; }
.attune-overview .root { opacity: 0.7; font-family: var(--vscode-editor-font-family, monospace); overflow-wrap: anywhere; }
.attune-overview .task-filter { margin-left: auto; }
.attune-overview select {
  background: var(--vscode-dropdown-background, var(--vscode-editor-background, #ffffff));
  color: var(--vscode-dropdown-foreground, var(--vscode-foreground, #1f1f1f));
  border: 1px solid var(--vscode-dropdown-border, #8888);
  font: inherit; padding: 1px 4px;
}
.attune-overview .totals { display: flex; gap: 24px; flex-wrap: wrap; }
.attune-overview .totals ul { list-style: none; margin: 0; padding: 0; }
.attune-overview .totals li { white-space: nowrap; line-height: 1.5; }
.attune-overview .swatch { display: inline-block; width: 10px; height: 10px; margin-right: 6px; vertical-align: baseline; border: 1px solid #8886; }
.attune-overview .legend { opacity: 0.85; display: flex; align-items: center; gap: 6px; flex-wrap: wrap; }
.attune-overview .legend .swatch { margin-right: 0; }
.attune-overview .status { min-height: 1.4em; display: flex; gap: 8px; align-items: center; }
.attune-overview .status.error { color: var(--vscode-errorForeground, #c72e0f); }
.attune-overview button {
  background: var(--vscode-button-secondaryBackground, #e5e5e5);
  color: var(--vscode-button-secondaryForeground, inherit);
  border: none; padding: 2px 8px; font: inherit; cursor: pointer;
}
.attune-overview .treemap { position: relative; flex: 1 1 auto; min-height: 240px; overflow: hidden; }
.attune-overview .folder {
  position: absolute; box-sizing: border-box; pointer-events: none;
  border: 1px solid var(--vscode-panel-border, #8886);
}
.attune-overview .folder-name {
  display: block; height: 16px; line-height: 16px; padding: 0 4px; font-size: 11px;
  overflow: hidden; white-space: nowrap; text-overflow: ellipsis; opacity: 0.85;
}
.attune-overview .tile {
  position: absolute; box-sizing: border-box; overflow: hidden;
  border: 1px solid var(--vscode-editor-background, #ffffff);
  color: var(--vscode-editor-foreground, #1f1f1f);
  font-size: 11px; line-height: 14px; padding: 1px 3px; white-space: nowrap; text-overflow: ellipsis;
}
.attune-overview .tile.clickable { cursor: pointer; }
.attune-overview .tile:hover, .attune-overview .tile:focus-visible {
  outline: 2px solid var(--vscode-focusBorder, #0090f1); outline-offset: -2px; z-index: 1;
}
.attune-overview .tooltip {
  position: fixed; z-index: 10; max-width: min(560px, 90vw); padding: 4px 8px; white-space: pre-line; pointer-events: none;
  background: var(--vscode-editorHoverWidget-background, #f3f3f3);
  color: var(--vscode-editorHoverWidget-foreground, inherit);
  border: 1px solid var(--vscode-editorHoverWidget-border, #c8c8c8);
}
.attune-overview .empty { padding: 24px; opacity: 0.8; }
.attune-overview details { opacity: 0.85; }
`;

  // src/common/format.ts
  function formatCount(n) {
    return Math.round(n).toLocaleString("en-US");
  }
  function formatMoney(dollars) {
    if (dollars === 0) return "$0";
    if (dollars >= 1) {
      return "$" + dollars.toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 });
    }
    return "$" + dollars.toFixed(4);
  }

  // src/overview/style.ts
  var MODE_COLORS = {
    subscription: "var(--vscode-charts-blue, #1a85ff)",
    api: "var(--vscode-charts-orange, #d18616)"
  };
  var OTHER_MODE_COLOR = "var(--vscode-charts-purple, #b180d7)";
  var BACKGROUND = "var(--vscode-editor-background, #ffffff)";
  var MODE_LABELS = { subscription: "Subscription", api: "API" };
  var CATEGORY_LABELS = { small: "Small", medium: "Medium", large: "Large" };
  function label(names, key) {
    return names[key] ?? (key ? key[0].toUpperCase() + key.slice(1) : "\u2014");
  }
  function modeColor(mode) {
    return MODE_COLORS[mode] ?? OTHER_MODE_COLOR;
  }
  var SHADE_STEPS = 5;
  function shadeLevel(cost, maxCost) {
    if (!(cost !== void 0 && cost > 0 && maxCost > 0)) return 0;
    return Math.min(SHADE_STEPS - 1, Math.floor(Math.sqrt(Math.min(1, cost / maxCost)) * SHADE_STEPS));
  }
  function shadePercent(level) {
    return Math.round(30 + 70 * level / (SHADE_STEPS - 1));
  }
  function tileColor(mode, level) {
    return `color-mix(in srgb, ${modeColor(mode)} ${shadePercent(level)}%, ${BACKGROUND})`;
  }

  // src/overview/totals.ts
  var CATEGORY_ORDER = ["small", "medium", "large"];
  function row(key, names, g, task) {
    const cost = g?.costs[task];
    return { key, label: label(names, key), files: g?.files ?? 0, tokens: g?.tokens ?? 0, cost };
  }
  function ordered(preferred, present) {
    return [.../* @__PURE__ */ new Set([...preferred, ...Object.keys(present)])];
  }
  function headerTotals(summary, task) {
    const { by_mode, by_category } = summary.totals;
    const modes = ordered(summary.modes_offered, by_mode).map((m) => row(m, MODE_LABELS, by_mode[m], task));
    const categories = ordered(CATEGORY_ORDER, by_category).map((c) => row(c, CATEGORY_LABELS, by_category[c], task));
    const costs = modes.map((m) => m.cost).filter((c) => c !== void 0);
    return {
      modes,
      categories,
      overall: {
        files: summary.totals.files,
        tokens: summary.totals.tokens,
        lines: summary.totals.lines,
        cost: costs.length > 0 ? costs.reduce((a, b) => a + b, 0) : void 0
      }
    };
  }
  function rowText(r) {
    const parts = [r.label, `${formatCount(r.files)} ${r.files === 1 ? "file" : "files"}`, `${formatCount(r.tokens)} tokens`];
    if (r.cost !== void 0) parts.push(formatMoney(r.cost));
    return parts.join(" \xB7 ");
  }

  // node_modules/d3-hierarchy/dist/d3-hierarchy.mjs
  function count(node) {
    var sum = 0, children = node.children, i = children && children.length;
    if (!i) sum = 1;
    else while (--i >= 0) sum += children[i].value;
    node.value = sum;
  }
  function node_count() {
    return this.eachAfter(count);
  }
  function node_each(callback, that) {
    let index2 = -1;
    for (const node of this) {
      callback.call(that, node, ++index2, this);
    }
    return this;
  }
  function node_eachBefore(callback, that) {
    var node = this, nodes = [node], children, i, index2 = -1;
    while (node = nodes.pop()) {
      callback.call(that, node, ++index2, this);
      if (children = node.children) {
        for (i = children.length - 1; i >= 0; --i) {
          nodes.push(children[i]);
        }
      }
    }
    return this;
  }
  function node_eachAfter(callback, that) {
    var node = this, nodes = [node], next = [], children, i, n, index2 = -1;
    while (node = nodes.pop()) {
      next.push(node);
      if (children = node.children) {
        for (i = 0, n = children.length; i < n; ++i) {
          nodes.push(children[i]);
        }
      }
    }
    while (node = next.pop()) {
      callback.call(that, node, ++index2, this);
    }
    return this;
  }
  function node_find(callback, that) {
    let index2 = -1;
    for (const node of this) {
      if (callback.call(that, node, ++index2, this)) {
        return node;
      }
    }
  }
  function node_sum(value) {
    return this.eachAfter(function(node) {
      var sum = +value(node.data) || 0, children = node.children, i = children && children.length;
      while (--i >= 0) sum += children[i].value;
      node.value = sum;
    });
  }
  function node_sort(compare) {
    return this.eachBefore(function(node) {
      if (node.children) {
        node.children.sort(compare);
      }
    });
  }
  function node_path(end) {
    var start = this, ancestor = leastCommonAncestor(start, end), nodes = [start];
    while (start !== ancestor) {
      start = start.parent;
      nodes.push(start);
    }
    var k = nodes.length;
    while (end !== ancestor) {
      nodes.splice(k, 0, end);
      end = end.parent;
    }
    return nodes;
  }
  function leastCommonAncestor(a, b) {
    if (a === b) return a;
    var aNodes = a.ancestors(), bNodes = b.ancestors(), c = null;
    a = aNodes.pop();
    b = bNodes.pop();
    while (a === b) {
      c = a;
      a = aNodes.pop();
      b = bNodes.pop();
    }
    return c;
  }
  function node_ancestors() {
    var node = this, nodes = [node];
    while (node = node.parent) {
      nodes.push(node);
    }
    return nodes;
  }
  function node_descendants() {
    return Array.from(this);
  }
  function node_leaves() {
    var leaves = [];
    this.eachBefore(function(node) {
      if (!node.children) {
        leaves.push(node);
      }
    });
    return leaves;
  }
  function node_links() {
    var root = this, links = [];
    root.each(function(node) {
      if (node !== root) {
        links.push({ source: node.parent, target: node });
      }
    });
    return links;
  }
  function* node_iterator() {
    var node = this, current, next = [node], children, i, n;
    do {
      current = next.reverse(), next = [];
      while (node = current.pop()) {
        yield node;
        if (children = node.children) {
          for (i = 0, n = children.length; i < n; ++i) {
            next.push(children[i]);
          }
        }
      }
    } while (next.length);
  }
  function hierarchy(data, children) {
    if (data instanceof Map) {
      data = [void 0, data];
      if (children === void 0) children = mapChildren;
    } else if (children === void 0) {
      children = objectChildren;
    }
    var root = new Node$1(data), node, nodes = [root], child, childs, i, n;
    while (node = nodes.pop()) {
      if ((childs = children(node.data)) && (n = (childs = Array.from(childs)).length)) {
        node.children = childs;
        for (i = n - 1; i >= 0; --i) {
          nodes.push(child = childs[i] = new Node$1(childs[i]));
          child.parent = node;
          child.depth = node.depth + 1;
        }
      }
    }
    return root.eachBefore(computeHeight);
  }
  function node_copy() {
    return hierarchy(this).eachBefore(copyData);
  }
  function objectChildren(d) {
    return d.children;
  }
  function mapChildren(d) {
    return Array.isArray(d) ? d[1] : null;
  }
  function copyData(node) {
    if (node.data.value !== void 0) node.value = node.data.value;
    node.data = node.data.data;
  }
  function computeHeight(node) {
    var height = 0;
    do
      node.height = height;
    while ((node = node.parent) && node.height < ++height);
  }
  function Node$1(data) {
    this.data = data;
    this.depth = this.height = 0;
    this.parent = null;
  }
  Node$1.prototype = hierarchy.prototype = {
    constructor: Node$1,
    count: node_count,
    each: node_each,
    eachAfter: node_eachAfter,
    eachBefore: node_eachBefore,
    find: node_find,
    sum: node_sum,
    sort: node_sort,
    path: node_path,
    ancestors: node_ancestors,
    descendants: node_descendants,
    leaves: node_leaves,
    links: node_links,
    copy: node_copy,
    [Symbol.iterator]: node_iterator
  };
  function required(f) {
    if (typeof f !== "function") throw new Error();
    return f;
  }
  function constantZero() {
    return 0;
  }
  function constant(x) {
    return function() {
      return x;
    };
  }
  function roundNode(node) {
    node.x0 = Math.round(node.x0);
    node.y0 = Math.round(node.y0);
    node.x1 = Math.round(node.x1);
    node.y1 = Math.round(node.y1);
  }
  function treemapDice(parent, x0, y0, x1, y1) {
    var nodes = parent.children, node, i = -1, n = nodes.length, k = parent.value && (x1 - x0) / parent.value;
    while (++i < n) {
      node = nodes[i], node.y0 = y0, node.y1 = y1;
      node.x0 = x0, node.x1 = x0 += node.value * k;
    }
  }
  function TreeNode(node, i) {
    this._ = node;
    this.parent = null;
    this.children = null;
    this.A = null;
    this.a = this;
    this.z = 0;
    this.m = 0;
    this.c = 0;
    this.s = 0;
    this.t = null;
    this.i = i;
  }
  TreeNode.prototype = Object.create(Node$1.prototype);
  function treemapSlice(parent, x0, y0, x1, y1) {
    var nodes = parent.children, node, i = -1, n = nodes.length, k = parent.value && (y1 - y0) / parent.value;
    while (++i < n) {
      node = nodes[i], node.x0 = x0, node.x1 = x1;
      node.y0 = y0, node.y1 = y0 += node.value * k;
    }
  }
  var phi = (1 + Math.sqrt(5)) / 2;
  function squarifyRatio(ratio, parent, x0, y0, x1, y1) {
    var rows = [], nodes = parent.children, row2, nodeValue, i0 = 0, i1 = 0, n = nodes.length, dx, dy, value = parent.value, sumValue, minValue, maxValue, newRatio, minRatio, alpha, beta;
    while (i0 < n) {
      dx = x1 - x0, dy = y1 - y0;
      do
        sumValue = nodes[i1++].value;
      while (!sumValue && i1 < n);
      minValue = maxValue = sumValue;
      alpha = Math.max(dy / dx, dx / dy) / (value * ratio);
      beta = sumValue * sumValue * alpha;
      minRatio = Math.max(maxValue / beta, beta / minValue);
      for (; i1 < n; ++i1) {
        sumValue += nodeValue = nodes[i1].value;
        if (nodeValue < minValue) minValue = nodeValue;
        if (nodeValue > maxValue) maxValue = nodeValue;
        beta = sumValue * sumValue * alpha;
        newRatio = Math.max(maxValue / beta, beta / minValue);
        if (newRatio > minRatio) {
          sumValue -= nodeValue;
          break;
        }
        minRatio = newRatio;
      }
      rows.push(row2 = { value: sumValue, dice: dx < dy, children: nodes.slice(i0, i1) });
      if (row2.dice) treemapDice(row2, x0, y0, x1, value ? y0 += dy * sumValue / value : y1);
      else treemapSlice(row2, x0, y0, value ? x0 += dx * sumValue / value : x1, y1);
      value -= sumValue, i0 = i1;
    }
    return rows;
  }
  var squarify = (function custom(ratio) {
    function squarify2(parent, x0, y0, x1, y1) {
      squarifyRatio(ratio, parent, x0, y0, x1, y1);
    }
    squarify2.ratio = function(x) {
      return custom((x = +x) > 1 ? x : 1);
    };
    return squarify2;
  })(phi);
  function index() {
    var tile = squarify, round = false, dx = 1, dy = 1, paddingStack = [0], paddingInner = constantZero, paddingTop = constantZero, paddingRight = constantZero, paddingBottom = constantZero, paddingLeft = constantZero;
    function treemap(root) {
      root.x0 = root.y0 = 0;
      root.x1 = dx;
      root.y1 = dy;
      root.eachBefore(positionNode);
      paddingStack = [0];
      if (round) root.eachBefore(roundNode);
      return root;
    }
    function positionNode(node) {
      var p = paddingStack[node.depth], x0 = node.x0 + p, y0 = node.y0 + p, x1 = node.x1 - p, y1 = node.y1 - p;
      if (x1 < x0) x0 = x1 = (x0 + x1) / 2;
      if (y1 < y0) y0 = y1 = (y0 + y1) / 2;
      node.x0 = x0;
      node.y0 = y0;
      node.x1 = x1;
      node.y1 = y1;
      if (node.children) {
        p = paddingStack[node.depth + 1] = paddingInner(node) / 2;
        x0 += paddingLeft(node) - p;
        y0 += paddingTop(node) - p;
        x1 -= paddingRight(node) - p;
        y1 -= paddingBottom(node) - p;
        if (x1 < x0) x0 = x1 = (x0 + x1) / 2;
        if (y1 < y0) y0 = y1 = (y0 + y1) / 2;
        tile(node, x0, y0, x1, y1);
      }
    }
    treemap.round = function(x) {
      return arguments.length ? (round = !!x, treemap) : round;
    };
    treemap.size = function(x) {
      return arguments.length ? (dx = +x[0], dy = +x[1], treemap) : [dx, dy];
    };
    treemap.tile = function(x) {
      return arguments.length ? (tile = required(x), treemap) : tile;
    };
    treemap.padding = function(x) {
      return arguments.length ? treemap.paddingInner(x).paddingOuter(x) : treemap.paddingInner();
    };
    treemap.paddingInner = function(x) {
      return arguments.length ? (paddingInner = typeof x === "function" ? x : constant(+x), treemap) : paddingInner;
    };
    treemap.paddingOuter = function(x) {
      return arguments.length ? treemap.paddingTop(x).paddingRight(x).paddingBottom(x).paddingLeft(x) : treemap.paddingTop();
    };
    treemap.paddingTop = function(x) {
      return arguments.length ? (paddingTop = typeof x === "function" ? x : constant(+x), treemap) : paddingTop;
    };
    treemap.paddingRight = function(x) {
      return arguments.length ? (paddingRight = typeof x === "function" ? x : constant(+x), treemap) : paddingRight;
    };
    treemap.paddingBottom = function(x) {
      return arguments.length ? (paddingBottom = typeof x === "function" ? x : constant(+x), treemap) : paddingBottom;
    };
    treemap.paddingLeft = function(x) {
      return arguments.length ? (paddingLeft = typeof x === "function" ? x : constant(+x), treemap) : paddingLeft;
    };
    return treemap;
  }
  var resquarify = (function custom2(ratio) {
    function resquarify2(parent, x0, y0, x1, y1) {
      if ((rows = parent._squarify) && rows.ratio === ratio) {
        var rows, row2, nodes, i, j = -1, n, m = rows.length, value = parent.value;
        while (++j < m) {
          row2 = rows[j], nodes = row2.children;
          for (i = row2.value = 0, n = nodes.length; i < n; ++i) row2.value += nodes[i].value;
          if (row2.dice) treemapDice(row2, x0, y0, x1, value ? y0 += (y1 - y0) * row2.value / value : y1);
          else treemapSlice(row2, x0, y0, value ? x0 += (x1 - x0) * row2.value / value : x1, y1);
          value -= row2.value;
        }
      } else {
        parent._squarify = rows = squarifyRatio(ratio, parent, x0, y0, x1, y1);
        rows.ratio = ratio;
      }
    }
    resquarify2.ratio = function(x) {
      return custom2((x = +x) > 1 ? x : 1);
    };
    return resquarify2;
  })(phi);

  // src/overview/layout.ts
  var MIN_AVERAGE_SHARE = 1 / 20;
  var FOLDER_LABEL = 16;
  var FOLDER_PADDING = 2;
  function folderTree(files) {
    const root = { name: "", path: "", children: [] };
    const folders = /* @__PURE__ */ new Map([["", root]]);
    const folderNode = (path) => {
      const known = folders.get(path);
      if (known) return known;
      const cut = path.lastIndexOf("/");
      const parent = folderNode(cut < 0 ? "" : path.slice(0, cut));
      const node = { name: cut < 0 ? path : path.slice(cut + 1), path, children: [] };
      parent.children?.push(node);
      folders.set(path, node);
      return node;
    };
    for (const file2 of files) {
      const name = file2.path.slice(file2.path.lastIndexOf("/") + 1);
      folderNode(file2.folder).children?.push({ name, path: file2.path, file: file2 });
    }
    return root;
  }
  function tileWeight(tokens, totalTokens, fileCount) {
    const floor = totalTokens > 0 ? totalTokens / Math.max(1, fileCount) * MIN_AVERAGE_SHARE : 1;
    return Math.max(tokens, floor);
  }
  var roomForLabel = (n) => n.y1 - n.y0 > 3 * FOLDER_LABEL && n.x1 - n.x0 > 48;
  function layoutTreemap(files, width, height) {
    const total = files.reduce((sum, f) => sum + f.tokens, 0);
    const root = hierarchy(folderTree(files)).sum((n) => n.file ? tileWeight(n.file.tokens, total, files.length) : 0).sort((a, b) => (b.value ?? 0) - (a.value ?? 0) || a.data.path.localeCompare(b.data.path));
    const padded = (n) => n.depth > 0 && roomForLabel(n) ? FOLDER_PADDING : 0;
    const laid = index().tile(squarify).size([Math.max(1, width), Math.max(1, height)]).paddingTop((n) => n.depth > 0 && roomForLabel(n) ? FOLDER_LABEL : 0).paddingRight(padded).paddingBottom(padded).paddingLeft(padded)(root);
    const tiles = [];
    const folders = [];
    for (const n of laid.descendants()) {
      const { x0, y0, x1, y1 } = n;
      if (n.data.file) tiles.push({ file: n.data.file, x0, y0, x1, y1 });
      else if (n.depth > 0) folders.push({ path: n.data.path, name: n.data.name, depth: n.depth, labelled: roomForLabel(n), x0, y0, x1, y1 });
    }
    return { tiles, folders };
  }

  // src/overview/tiles.ts
  var NAME_WIDTH = 44;
  var NAME_HEIGHT = 16;
  function ariaLabel(file2) {
    return file2.lens ? `${file2.path} \u2014 ${file2.lens}` : `${file2.path} \u2014 ${file2.lines} lines`;
  }
  function hoverText(file2, task, lensTask) {
    const lines = [file2.path, file2.lens || `${file2.lines} lines`];
    const cost = file2.costs[task];
    if (task !== lensTask && cost !== void 0) lines.push(`${task}: API \u2248 ${formatMoney(cost)}`);
    return lines.join("\n");
  }
  function picture(summary, task, width, height) {
    const { tiles, folders } = layoutTreemap(summary.files, width, height);
    const maxCost = Math.max(0, ...summary.files.map((f) => f.costs[task] ?? 0));
    return {
      folders,
      tiles: tiles.map(({ file: file2, x0, y0, x1, y1 }) => {
        const level = shadeLevel(file2.costs[task], maxCost);
        return {
          path: file2.path,
          name: file2.path.slice(file2.path.lastIndexOf("/") + 1),
          x: x0,
          y: y0,
          width: x1 - x0,
          height: y1 - y0,
          mode: file2.mode,
          level,
          background: tileColor(file2.mode, level),
          ariaLabel: ariaLabel(file2),
          hover: hoverText(file2, task, summary.task),
          showName: x1 - x0 >= NAME_WIDTH && y1 - y0 >= NAME_HEIGHT
        };
      })
    };
  }

  // src/overview/render.ts
  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== void 0) node.textContent = text;
    return node;
  }
  function swatch(color) {
    const s = el("span", "swatch");
    s.style.background = color;
    return s;
  }
  function place(node, x, y, width, height) {
    node.style.left = `${x}px`;
    node.style.top = `${y}px`;
    node.style.width = `${width}px`;
    node.style.height = `${height}px`;
  }
  var OverviewView = class {
    constructor(host, options = {}) {
      this.options = options;
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
      this.map.addEventListener("mouseleave", () => this.tooltip.hidden = true);
      new ResizeObserver(() => this.scheduleDraw()).observe(this.map);
    }
    options;
    summary;
    task;
    root = el("div", "attune-overview");
    title = el("h1", void 0, "Workspace overview");
    rootPath = el("span", "root");
    taskSelect = el("select");
    totals = el("div", "totals");
    legend = el("div", "legend");
    status = el("div", "status");
    map = el("div", "treemap");
    skipped = el("div");
    tooltip = el("div", "tooltip");
    drawScheduled = false;
    /** The task whose cost shades the tiles: the user's pick if the summary has it, else the summary's. */
    currentTask() {
      const s = this.summary;
      if (!s) return this.task ?? "";
      return this.task && s.tasks.includes(this.task) ? this.task : s.task;
    }
    show(summary) {
      this.summary = summary;
      this.render();
    }
    setStatus(text, kind = "info") {
      this.status.replaceChildren(el("span", void 0, text));
      this.status.classList.toggle("error", kind === "error");
      if (kind === "busy" && this.options.onCancel) {
        const cancel = el("button", void 0, "Cancel");
        cancel.addEventListener("click", () => this.options.onCancel?.());
        this.status.append(cancel);
      }
    }
    render() {
      const s = this.summary;
      if (!s) return;
      const task = this.currentTask();
      this.rootPath.textContent = s.root;
      this.taskSelect.replaceChildren(...s.tasks.map((t2) => Object.assign(el("option", void 0, t2), { value: t2 })));
      this.taskSelect.value = task;
      const t = headerTotals(s, task);
      const group = (heading, rows) => {
        const g = el("div", "group");
        const list = el("ul");
        list.append(...rows);
        g.append(el("h2", void 0, heading), list);
        return g;
      };
      const modeRows = t.modes.map((r) => {
        const li = el("li", void 0, rowText(r));
        li.prepend(swatch(tileColor(r.key, SHADE_STEPS - 1)));
        return li;
      });
      const categoryRows = t.categories.map((r) => el("li", void 0, rowText(r)));
      const all = [`${formatCount(t.overall.files)} files`, `${formatCount(t.overall.lines)} lines`, `${formatCount(t.overall.tokens)} tokens`];
      if (t.overall.cost !== void 0) all.push(`${formatMoney(t.overall.cost)} to ${task} them all on the API`);
      this.totals.replaceChildren(
        group("By recommended mode", modeRows),
        group("By size", categoryRows),
        group("Workspace", [el("li", void 0, all.join(" \xB7 "))])
      );
      const shadeMode = t.modes[0]?.key ?? "api";
      this.legend.replaceChildren(
        el("span", void 0, `Area: tokens \xB7 Colour: recommended mode \xB7 Shade: estimated cost of ${task}, cheaper`),
        ...Array.from({ length: SHADE_STEPS }, (_, level) => swatch(tileColor(shadeMode, level))),
        el("span", void 0, "costlier")
      );
      this.skipped.replaceChildren();
      if (s.skipped.length > 0) {
        const details = el("details");
        const list = el("ul");
        list.append(...s.skipped.map((k) => el("li", void 0, `${k.path}: ${k.reason}`)));
        details.append(el("summary", void 0, `${s.skipped.length} ${s.skipped.length === 1 ? "file" : "files"} not counted`), list);
        this.skipped.append(details);
      }
      this.draw();
    }
    scheduleDraw() {
      if (this.drawScheduled) return;
      this.drawScheduled = true;
      requestAnimationFrame(() => {
        this.drawScheduled = false;
        this.draw();
      });
    }
    draw() {
      const s = this.summary;
      if (!s) return;
      if (s.files.length === 0) {
        this.map.replaceChildren(el("div", "empty", `No source files in ${s.root || "this folder"}.`));
        return;
      }
      const { clientWidth: width, clientHeight: height } = this.map;
      if (width < 2 || height < 2) return;
      const { tiles, folders } = picture(s, this.currentTask(), width, height);
      const nodes = folders.map((f) => {
        const frame = el("div", "folder");
        frame.dataset.folder = f.path;
        place(frame, f.x0, f.y0, f.x1 - f.x0, f.y1 - f.y0);
        if (f.labelled) frame.append(el("span", "folder-name", `${f.name}/`));
        return frame;
      });
      nodes.push(...tiles.map((t) => this.tile(t)));
      this.map.replaceChildren(...nodes);
    }
    tile(t) {
      const tile = el("div", "tile", t.showName ? t.name : void 0);
      tile.dataset.path = t.path;
      tile.dataset.mode = t.mode;
      tile.setAttribute("aria-label", t.ariaLabel);
      tile.tabIndex = 0;
      place(tile, t.x, t.y, t.width, t.height);
      tile.style.background = t.background;
      const show = (x, y) => this.showTooltip(t.hover, x, y);
      tile.addEventListener("mousemove", (e) => show(e.clientX, e.clientY));
      tile.addEventListener("focus", () => {
        const r = tile.getBoundingClientRect();
        show(r.left + r.width / 2, r.top + r.height / 2);
      });
      tile.addEventListener("blur", () => this.tooltip.hidden = true);
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
    showTooltip(text, x, y) {
      const tip = this.tooltip;
      tip.textContent = text;
      tip.hidden = false;
      tip.style.left = "0px";
      tip.style.top = "0px";
      const w = tip.offsetWidth;
      const h = tip.offsetHeight;
      tip.style.left = `${Math.max(0, Math.min(x + 14, window.innerWidth - w - 4))}px`;
      tip.style.top = `${Math.max(0, y + 18 + h > window.innerHeight ? y - h - 8 : y + 18)}px`;
    }
  };

  // src/overview/summary.ts
  var isDict = (v) => typeof v === "object" && v !== null && !Array.isArray(v);
  var str = (v) => typeof v === "string" ? v : "";
  var num = (v) => typeof v === "number" && Number.isFinite(v) ? v : 0;
  var strings = (v) => Array.isArray(v) ? v.filter((x) => typeof x === "string") : [];
  function numbers(v) {
    const out = {};
    if (isDict(v)) for (const [k, x] of Object.entries(v)) out[k] = num(x);
    return out;
  }
  function groups(v) {
    const out = {};
    if (isDict(v)) {
      for (const [k, g] of Object.entries(v)) {
        if (isDict(g)) out[k] = { files: num(g.files), tokens: num(g.tokens), costs: numbers(g.costs) };
      }
    }
    return out;
  }
  function parentOf(path) {
    const cut = path.lastIndexOf("/");
    return cut < 0 ? "" : path.slice(0, cut);
  }
  function file(v) {
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
      lens: str(v.lens)
    };
  }
  function parseSummary(raw) {
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
        by_category: groups(totals.by_category)
      },
      skipped: Array.isArray(raw.skipped) ? raw.skipped.filter(isDict).map((s) => ({ path: str(s.path), reason: str(s.reason) })) : []
    };
  }

  // src/overview/page.ts
  function main() {
    const nonce = document.currentScript?.nonce;
    const style = document.createElement("style");
    if (nonce) style.nonce = nonce;
    style.textContent = OVERVIEW_CSS;
    document.head.append(style);
    const vscode = typeof acquireVsCodeApi === "function" ? acquireVsCodeApi() : void 0;
    const saved = vscode?.getState();
    const view = new OverviewView(document.body, {
      task: typeof saved?.task === "string" ? saved.task : void 0,
      onOpen: vscode ? (path) => vscode.postMessage({ type: "open", path }) : void 0,
      onTaskChange: (task) => {
        vscode?.setState({ task });
        vscode?.postMessage({ type: "task", task });
      },
      onCancel: vscode ? () => vscode.postMessage({ type: "cancel" }) : void 0
    });
    const show = (raw) => {
      try {
        view.show(parseSummary(raw));
      } catch (err) {
        view.setStatus(`Attune could not draw the overview: ${err instanceof Error ? err.message : String(err)}`, "error");
      }
    };
    const inline = document.getElementById("attune-summary")?.textContent?.trim();
    if (inline && inline !== "null") {
      try {
        show(JSON.parse(inline));
      } catch (err) {
        view.setStatus(`The embedded summary is not valid JSON: ${String(err)}`, "error");
      }
    }
    if (vscode) {
      window.addEventListener("message", (event) => {
        const message = event.data;
        if (message?.type === "summary") {
          show(message.summary);
          view.setStatus("");
        } else if (message?.type === "status") {
          view.setStatus(message.text, message.kind);
        }
      });
      vscode.postMessage({ type: "ready" });
    }
  }
  main();
})();
