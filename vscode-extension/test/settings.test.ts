import assert from "node:assert/strict";
import { test } from "node:test";
import { serverSettings } from "../src/common/settings";

test("server settings: documented defaults, partial and invalid values fall back", () => {
  const none = serverSettings(() => undefined);
  assert.deepEqual(none, { lens: { enabled: true, debounceMs: 300, maxFileSizeMB: 5, show: ["size", "mode", "cost"] }, details: { showMessage: false } });
  const values: Record<string, unknown> = { "lens.enabled": false, "lens.debounceMs": -4, "lens.show": ["cost", "bogus"] };
  const s = serverSettings(<T>(k: string) => values[k] as T);
  assert.deepEqual(s.lens, { enabled: false, debounceMs: 300, maxFileSizeMB: 5, show: ["cost"] });
});
