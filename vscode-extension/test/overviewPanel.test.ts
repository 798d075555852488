// The overview panel's page and the paths it agrees to open.
import assert from "node:assert/strict";
import { test } from "node:test";
import { newNonce, overviewHtml, relativeInside } from "../src/overviewPanel";

test("the webview's page allows only its own nonce's script and styles and the webview's resources", () => {
  const nonce = newNonce();
  const html = overviewHtml({ cspSource: "https://webview.test", nonce, scriptUri: "https://webview.test/ext/out/overview.js" });
  const csp = /http-equiv="Content-Security-Policy" content="([^"]*)"/.exec(html)?.[1];
  assert.equal(
    csp,
    `default-src 'none'; style-src https://webview.test 'nonce-${nonce}'; script-src 'nonce-${nonce}'; img-src https://webview.test`,
  );
  const scripts = [...html.matchAll(/<script\b([^>]*)>/g)].map((m) => m[1]);
  assert.deepEqual(scripts, [` nonce="${nonce}" src="https://webview.test/ext/out/overview.js"`]);
  assert.doesNotMatch(html, /https?:\/\/(?!webview\.test)/, "no remote content");
  assert.doesNotMatch(html, /style="/, "no inline style attribute");
});

test("each page gets a fresh nonce", () => {
  const nonces = new Set(Array.from({ length: 20 }, newNonce));
  assert.equal(nonces.size, 20);
  for (const n of nonces) assert.match(n, /^[A-Za-z0-9+/]{24}$/);
});

test("a tile's path opens inside the workspace folder; paths that escape it are refused", () => {
  assert.deepEqual(relativeInside("src/a.py"), ["src", "a.py"]);
  assert.deepEqual(relativeInside("a.py"), ["a.py"]);
  assert.deepEqual(relativeInside("src/./lib/../a.py"), ["src", "a.py"]);
  for (const bad of ["../outside.py", "src/../../x.py", "/etc/passwd", "C:/Windows/win.ini", "..\\x.py", "..", ".", "", "a\0b", 42, undefined]) {
    assert.equal(relativeInside(bad), undefined, `${JSON.stringify(bad)} was accepted`);
  }
});
