// Charts of a version's last hour (GET /services/{name}/{version}/stats, o16n) drawn as inline
// SVG, and the services list's "pool" and "calls/min" cells. Uses el, api and enc of app.js.
"use strict";

const SVG_NS = "http://www.w3.org/2000/svg";
const CHART_WIDTH = 600;
const CHART_HEIGHT = 160;
const CHART_PAD = { left: 48, right: 8, top: 10, bottom: 22 };
const REFRESH_MS = 10000;

function svgEl(tag, attributes, ...children) {
  const node = document.createElementNS(SVG_NS, tag);
  for (const [name, value] of Object.entries(attributes || {})) node.setAttribute(name, value);
  for (const child of children.flat()) {
    if (child !== null && child !== undefined) {
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
  }
  return node;
}

function statsPath(name, version) {
  return `/services/${enc(name)}/${enc(version)}/stats`;
}

// Every bucket of the window, oldest first: empty ones with no calls and null percentiles.
function timeline(stats) {
  const width = stats.bucketSeconds * 1000;
  const start = Date.parse(stats.windowStart);
  const count = Math.round((Date.parse(stats.windowEnd) - start) / width);
  const slots = Array.from({ length: count }, (_, i) => ({
    start: start + i * width, calls: 0, errors: 0, p50Ms: null, p95Ms: null, p99Ms: null }));
  for (const bucket of stats.buckets) {
    const index = Math.round((Date.parse(bucket.start) - start) / width);
    if (index >= 0 && index < count) slots[index] = { ...bucket, start: slots[index].start };
  }
  return slots;
}

// Calls in the buckets of the last minute (the current one, still filling, included).
function callsLastMinute(stats) {
  const since = Date.parse(stats.windowEnd) - 60000;
  return stats.buckets.filter((b) => Date.parse(b.start) >= since)
    .reduce((sum, b) => sum + b.calls, 0);
}

function niceCeiling(value) {
  if (value <= 0) return 1;
  const power = 10 ** Math.floor(Math.log10(value));
  return [1, 2, 5, 10].map((step) => step * power).find((top) => top >= value);
}

function formatNumber(value) {
  return value >= 100 ? String(Math.round(value)) : String(Number(value.toPrecision(3)));
}

// One line chart: `series` are {label, key, css} read from each slot (null: no point).
function lineChart(id, title, unit, slots, series) {
  const width = CHART_WIDTH - CHART_PAD.left - CHART_PAD.right;
  const height = CHART_HEIGHT - CHART_PAD.top - CHART_PAD.bottom;
  const values = slots.flatMap((slot) => series.map((s) => slot[s.key])).filter((v) => v !== null);
  const top = niceCeiling(Math.max(0, ...values));
  const x = (i) => CHART_PAD.left + (slots.length > 1 ? (i * width) / (slots.length - 1) : 0);
  const y = (v) => CHART_PAD.top + height - (v / top) * height;
  const lines = series.map((s) => {
    const segments = [[]];
    slots.forEach((slot, i) => {
      const value = slot[s.key];
      if (value === null) { if (segments.at(-1).length) segments.push([]); return; }
      segments.at(-1).push(`${x(i).toFixed(1)},${y(value).toFixed(1)}`);
    });
    const drawn = segments.filter((points) => points.length);
    return svgEl("g", { class: `series ${s.css}` },
      drawn.map((points) => svgEl("polyline", { points: points.join(" ") })),
      drawn.filter((points) => points.length === 1)
        .map(([point]) => svgEl("circle", { cx: point.split(",")[0], cy: point.split(",")[1],
          r: "2.5" })));
  });
  const latest = series.map((s) => {
    const last = [...slots].reverse().find((slot) => slot[s.key] !== null && slot.calls);
    return `${s.label} ${last ? formatNumber(last[s.key]) : "none"}`;
  }).join(", ");
  const description = `${title} over the last hour, ${unit}; maximum of the scale ` +
    `${formatNumber(top)}. Latest: ${latest}.`;
  return el("figure", { class: "chart" },
    svgEl("svg", { id, viewBox: `0 0 ${CHART_WIDTH} ${CHART_HEIGHT}`, role: "img",
      "aria-labelledby": `${id}-title ${id}-desc` },
    svgEl("title", { id: `${id}-title` }, title),
    svgEl("desc", { id: `${id}-desc` }, description),
    svgEl("line", { class: "axis", x1: CHART_PAD.left, x2: CHART_PAD.left + width,
      y1: CHART_PAD.top + height, y2: CHART_PAD.top + height }),
    svgEl("line", { class: "grid", x1: CHART_PAD.left, x2: CHART_PAD.left + width,
      y1: CHART_PAD.top, y2: CHART_PAD.top }),
    svgEl("text", { x: CHART_PAD.left - 4, y: CHART_PAD.top + 4, "text-anchor": "end" },
      formatNumber(top)),
    svgEl("text", { x: CHART_PAD.left - 4, y: CHART_PAD.top + height, "text-anchor": "end" }, "0"),
    svgEl("text", { x: CHART_PAD.left, y: CHART_HEIGHT - 4 }, "−60 min"),
    svgEl("text", { x: CHART_PAD.left + width, y: CHART_HEIGHT - 4, "text-anchor": "end" },
      "now"),
    lines),
  el("figcaption", {}, `${title} (${unit}) `,
    series.map((s) => el("span", { class: `legend ${s.css}` }, s.label))));
}

function summary(stats) {
  const calls = stats.buckets.reduce((sum, b) => sum + b.calls, 0);
  const errors = stats.buckets.reduce((sum, b) => sum + b.errors, 0);
  return `Last hour on this web node: ${calls} calls, ${errors} errors; ` +
    `${callsLastMinute(stats)} calls in the last minute.`;
}

function bucketTable(stats) {
  const rows = stats.buckets.map((b) => [new Date(b.start).toLocaleTimeString(),
    String(b.calls), String(b.errors), formatNumber(b.p50Ms), formatNumber(b.p95Ms),
    formatNumber(b.p99Ms)]).reverse();
  return el("details", {}, el("summary", {}, "Data (buckets with calls, newest first)"),
    table(`${stats.bucketSeconds}-second buckets`,
      ["Start", "Calls", "Errors", "p50 ms", "p95 ms", "p99 ms"], rows));
}

function drawStats(stats) {
  const slots = timeline(stats);
  const perSecond = (count) => count / stats.bucketSeconds;
  const rates = slots.map((slot) => ({ ...slot, rate: perSecond(slot.calls),
    errorRate: perSecond(slot.errors) }));
  return [
    el("p", { id: "stats-summary" }, summary(stats)),
    el("div", { class: "charts" },
      lineChart("chart-traffic", "Calls and errors", "per second", rates, [
        { label: "calls", key: "rate", css: "calls" },
        { label: "errors", key: "errorRate", css: "errors" }]),
      lineChart("chart-latency", "Latency", "milliseconds", slots, [
        { label: "p50", key: "p50Ms", css: "p50" },
        { label: "p95", key: "p95Ms", css: "p95" },
        { label: "p99", key: "p99Ms", css: "p99" }])),
    bucketTable(stats),
  ];
}

// Calls `refresh` now and every REFRESH_MS while `node` is on the page (the first call may
// end before the page holds it).
function whileShown(node, refresh) {
  let ticks = 0;
  const tick = async () => {
    if (ticks++ && !node.isConnected) return;
    await refresh();
    setTimeout(tick, REFRESH_MS);
  };
  tick();
}

// The version page's section of charts, refreshed while the page is open.
function chartsSection(name, version) {
  const body = el("div", { id: "stats", "aria-live": "off" }, el("p", {}, "Loading…"));
  const section = el("section", { class: "card", "aria-labelledby": "stats-title" },
    el("h2", { id: "stats-title" }, "Calls over the last hour"),
    el("p", { class: "hint" }, `Refreshed every ${REFRESH_MS / 1000} s; each web node counts ` +
      "the calls it answered."), body);
  whileShown(section, async () => {
    try {
      const stats = await api("GET", statsPath(name, version));
      const opened = Boolean(body.querySelector("details")?.open);
      body.replaceChildren(...drawStats(stats));
      body.querySelector("details").open = opened;
    } catch (error) {
      body.replaceChildren(failure(error));
    }
  });
  return section;
}

// The pool state as GET …/pool answers it: a dedicated pool, ready or starting, or none.
const POOL_STATES = { Success: "dedicated, ready", Pending: "dedicated, starting",
  NotFound: "shared" };

// A cell of the services list, filled from `request`'s answer when it comes.
function filledCell(css, request, text) {
  const cell = el("span", { class: css }, "…");
  request.then((answer) => { cell.textContent = text(answer); })
    .catch(() => { cell.textContent = "unknown"; });
  return cell;
}

function poolCell(service) {
  if (service.serviceType === "Realtime") return el("span", { class: "pool" }, "in web process");
  const path = `/services/${enc(service.name)}/${enc(service.version)}/pool`;
  return filledCell("pool", api("GET", path), ([pool]) => POOL_STATES[pool.status] || pool.status);
}

function callRateCell(service) {
  return filledCell("calls-per-minute", api("GET", statsPath(service.name, service.version)),
    (stats) => String(callsLastMinute(stats)));
}
