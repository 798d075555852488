// How numbers read in the extension's own texts. Mirrors attune.models.formatting
// (format_count, format_money) so the wizard and the lenses read alike.

/** A value from the server as text: strings as they are, objects as JSON, nothing as "". */
export function asText(value: unknown): string {
  switch (typeof value) {
    case "string":
      return value;
    case "number":
    case "boolean":
    case "bigint":
      return String(value);
    case "undefined":
      return "";
    default:
      return value === null ? "" : (JSON.stringify(value) ?? "");
  }
}

export function formatCount(n: number): string {
  return Math.round(n).toLocaleString("en-US");
}

export function formatMoney(dollars: number): string {
  if (dollars === 0) return "$0";
  if (dollars >= 1) {
    return "$" + dollars.toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 });
  }
  return "$" + dollars.toFixed(4);
}

/** 59_000 -> "59s", 245_000 -> "4m 05s", 3_720_000 -> "1h 02m". Negative -> "0s". */
export function formatDuration(ms: number): string {
  const total = Math.max(0, Math.ceil(ms / 1000));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  const pad = (v: number) => String(v).padStart(2, "0");
  if (h > 0) return `${h}h ${pad(m)}m`;
  if (m > 0) return `${m}m ${pad(s)}s`;
  return `${s}s`;
}

/** "14:05:09" in UTC, for tooltips that must not depend on the viewer's time zone. */
export function formatClockUtc(date: Date): string {
  return date.toISOString().slice(11, 19) + " UTC";
}
