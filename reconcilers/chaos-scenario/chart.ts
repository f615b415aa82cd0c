// The run at a glance, as SVG: latency percentiles (log scale) and error rate over sim time, the
// event windows shaded and labelled, the invariant thresholds dashed, and each violation marked
// where it began. Pure: report in, markup out.
import { formatSimTime } from './model.ts';
import type { RunReport, TimelineRow } from './runner.ts';

const W = 1000;
const H = 600;
const LEFT = 70;
const RIGHT = 30;
const LAT = { top: 70, bottom: 320 };
const ERR = { top: 370, bottom: 520 };
const PLOT_W = W - LEFT - RIGHT;
const KIND_COLOR: Record<string, string> = { fault: '#d62728', traffic: '#1f77b4', application: '#9467bd' };
const SERIES = [
  { key: 'p50Ms', label: 'p50', color: '#2ca02c' },
  { key: 'p95Ms', label: 'p95', color: '#ff7f0e' },
  { key: 'p99Ms', label: 'p99', color: '#d62728' },
] as const;

const esc = (s: string) =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const f1 = (x: number) => (Math.round(x * 10) / 10).toString();

/** At most one row per pixel column: the maximum of each series, so no spike is hidden. */
const downsample = (rows: TimelineRow[], columns: number): TimelineRow[] => {
  if (rows.length <= columns) return rows;
  const out: TimelineRow[] = [];
  const per = rows.length / columns;
  for (let c = 0; c < columns; c++) {
    const slice = rows.slice(
      Math.floor(c * per),
      Math.max(Math.floor(c * per) + 1, Math.floor((c + 1) * per)),
    );
    const last = slice[slice.length - 1]!;
    out.push({
      ...last,
      p50Ms: Math.max(...slice.map((r) => r.p50Ms)),
      p95Ms: Math.max(...slice.map((r) => r.p95Ms)),
      p99Ms: Math.max(...slice.map((r) => r.p99Ms)),
      errorRate: Math.max(...slice.map((r) => r.errorRate)),
      ...worstTick(slice),
    });
  }
  return out;
};

/** The requests and errors of the tick with the highest error rate (what the error panel draws). */
const worstTick = (slice: TimelineRow[]) => {
  const rate = (r: TimelineRow) => (r.requests ? r.errors / r.requests : -1);
  let worst = slice[0]!;
  for (const r of slice) if (rate(r) > rate(worst)) worst = r;
  return { requests: worst.requests, errors: worst.errors };
};

const niceStep = (span: number, target: number): number => {
  const raw = span / target;
  const candidates = [1, 2, 5, 10, 15, 30, 60, 120, 180, 360, 720, 1440, 2880, 10080];
  return candidates.find((c) => c >= raw) ?? Math.ceil(raw / 1440) * 1440;
};

export const renderChart = (r: RunReport): string => {
  const total = Math.max(r.totalSimMinutes, 1e-9);
  const x = (m: number) => LEFT + (Math.min(Math.max(m, 0), total) / total) * PLOT_W;
  const rows = downsample(r.timeline, PLOT_W);
  const maxLatency = Math.max(10, ...rows.map((row) => row.p99Ms));
  const latencyInvariants = r.invariants.filter((i) => /^p(50|95|99)_latency_ms$/.test(i.metric));
  const topLat =
    10 ** Math.ceil(Math.log10(Math.max(maxLatency, ...latencyInvariants.map((i) => i.threshold)) * 1.05));
  const botLat = 0.1;
  const yLat = (ms: number) => {
    const v = Math.log10(Math.max(botLat, ms));
    return (
      LAT.bottom -
      ((v - Math.log10(botLat)) / (Math.log10(topLat) - Math.log10(botLat))) * (LAT.bottom - LAT.top)
    );
  };
  const errorInvariants = r.invariants.filter((i) => i.metric === 'error_rate');
  const tickRate = (row: TimelineRow) => (row.requests ? row.errors / row.requests : 0);
  const maxErr = Math.max(0.05, ...rows.map(tickRate), ...errorInvariants.map((i) => i.threshold)) * 1.1;
  const yErr = (rate: number) => ERR.bottom - (Math.min(rate, maxErr) / maxErr) * (ERR.bottom - ERR.top);

  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="Helvetica, Arial, sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="#ffffff"/>`,
  );
  const verdictColor = r.verdict === 'Passed' ? '#2ca02c' : r.verdict === 'Failed' ? '#d62728' : '#7f7f7f';
  out.push(
    `<text x="${LEFT}" y="26" font-size="16" font-weight="bold">${esc(r.scenario)}${r.preset ? ` · ${esc(r.preset)}` : ''} · seed ${r.seed}</text>`,
    `<text x="${W - RIGHT}" y="26" font-size="16" font-weight="bold" text-anchor="end" fill="${verdictColor}">${r.verdict.toUpperCase()}${r.aborted ? ` (aborted: ${esc(r.aborted)})` : ''}</text>`,
    `<text x="${LEFT}" y="46" fill="#555">run ${esc(r.runId)} · ${formatSimTime(r.simMinutes)} sim in ${f1(r.realSeconds)} s · ${r.totals.requests} requests · ${r.agentsSpawned} agents · ${r.violations.length} violations</text>`,
  );

  // Event windows, across both panels.
  const labelEnds: number[] = [];
  for (const e of r.events) {
    const x0 = x(e.triggerAt);
    const x1 = Math.max(x0 + 1.5, x(e.triggerAt + e.duration));
    const color = KIND_COLOR[e.kind] ?? '#7f7f7f';
    // Labels go on the first row where they do not run into the previous label.
    let row = 0;
    while ((labelEnds[row] ?? 0) > x0) row++;
    out.push(
      `<g><title>${esc(`${e.type} ${formatSimTime(e.triggerAt)}–${formatSimTime(e.triggerAt + e.duration)} ${JSON.stringify(e.parameters)}`)}</title>`,
      `<rect x="${f1(x0)}" y="${LAT.top}" width="${f1(x1 - x0)}" height="${LAT.bottom - LAT.top}" fill="${color}" fill-opacity="0.13"/>`,
      `<rect x="${f1(x0)}" y="${ERR.top}" width="${f1(x1 - x0)}" height="${ERR.bottom - ERR.top}" fill="${color}" fill-opacity="0.13"/>`,
      `<text x="${f1(x0 + 3)}" y="${LAT.top + 14 + 13 * row}" font-size="11" fill="${color}">${esc(e.type)}</text></g>`,
    );
    labelEnds[row] = x0 + 3 + e.type.length * 6.5;
  }

  // Axes and grids.
  const step = niceStep(total, 8);
  for (let m = 0; m <= total + 1e-9; m += step) {
    const xx = f1(x(m));
    out.push(
      `<line x1="${xx}" y1="${LAT.top}" x2="${xx}" y2="${LAT.bottom}" stroke="#eee"/>`,
      `<line x1="${xx}" y1="${ERR.top}" x2="${xx}" y2="${ERR.bottom}" stroke="#eee"/>`,
      `<text x="${xx}" y="${ERR.bottom + 16}" text-anchor="middle" fill="#555">${formatSimTime(m)}</text>`,
    );
  }
  out.push(
    `<text x="${LEFT + PLOT_W / 2}" y="${ERR.bottom + 34}" text-anchor="middle" fill="#333">sim time (h:mm)</text>`,
  );
  for (let v = botLat; v <= topLat * 1.0001; v *= 10) {
    const yy = f1(yLat(v));
    out.push(
      `<line x1="${LEFT}" y1="${yy}" x2="${LEFT + PLOT_W}" y2="${yy}" stroke="#e4e4e4"/>`,
      `<text x="${LEFT - 6}" y="${yy}" dy="4" text-anchor="end" fill="#555">${v >= 1 ? v.toFixed(0) : v.toFixed(1)}</text>`,
    );
  }
  for (let i = 0; i <= 4; i++) {
    const rate = (maxErr * i) / 4;
    const yy = f1(yErr(rate));
    out.push(
      `<line x1="${LEFT}" y1="${yy}" x2="${LEFT + PLOT_W}" y2="${yy}" stroke="#e4e4e4"/>`,
      `<text x="${LEFT - 6}" y="${yy}" dy="4" text-anchor="end" fill="#555">${f1(rate * 100)}%</text>`,
    );
  }
  out.push(
    `<rect x="${LEFT}" y="${LAT.top}" width="${PLOT_W}" height="${LAT.bottom - LAT.top}" fill="none" stroke="#999"/>`,
    `<rect x="${LEFT}" y="${ERR.top}" width="${PLOT_W}" height="${ERR.bottom - ERR.top}" fill="none" stroke="#999"/>`,
    `<text transform="translate(18 ${(LAT.top + LAT.bottom) / 2}) rotate(-90)" text-anchor="middle" fill="#333">latency, ms (log)</text>`,
    `<text transform="translate(18 ${(ERR.top + ERR.bottom) / 2}) rotate(-90)" text-anchor="middle" fill="#333">error rate</text>`,
  );

  // Thresholds.
  for (const inv of latencyInvariants) {
    const yy = f1(yLat(inv.threshold));
    out.push(
      `<line x1="${LEFT}" y1="${yy}" x2="${LEFT + PLOT_W}" y2="${yy}" stroke="#555" stroke-dasharray="6 4"/>`,
      `<text x="${LEFT + PLOT_W - 4}" y="${yy}" dy="-4" text-anchor="end" font-size="11" fill="#555">${esc(inv.name)} ${esc(inv.op)} ${inv.threshold} ms</text>`,
    );
  }
  for (const inv of errorInvariants) {
    const yy = f1(yErr(inv.threshold));
    out.push(
      `<line x1="${LEFT}" y1="${yy}" x2="${LEFT + PLOT_W}" y2="${yy}" stroke="#555" stroke-dasharray="6 4"/>`,
      `<text x="${LEFT + PLOT_W - 4}" y="${yy}" dy="-4" text-anchor="end" font-size="11" fill="#555">${esc(inv.name)} ${esc(inv.op)} ${f1(inv.threshold * 100)}%</text>`,
    );
  }

  // Series.
  const path = (pts: [number, number][]) =>
    pts.map(([px, py], i) => `${i ? 'L' : 'M'}${f1(px)} ${f1(py)}`).join(' ');
  const withData = rows.filter((row) => row.requests > 0 || row.p50Ms > 0);
  for (const s of SERIES) {
    const pts = withData.map((row): [number, number] => [x(row.simMinute), yLat(row[s.key])]);
    if (pts.length) out.push(`<path d="${path(pts)}" fill="none" stroke="${s.color}" stroke-width="1.6"/>`);
  }
  const errPts = rows.map((row): [number, number] => [x(row.simMinute), yErr(tickRate(row))]);
  if (errPts.length) {
    const area = `${path(errPts)} L${f1(errPts[errPts.length - 1]![0])} ${ERR.bottom} L${f1(errPts[0]![0])} ${ERR.bottom} Z`;
    out.push(
      `<path d="${area}" fill="#d62728" fill-opacity="0.25" stroke="none"/>`,
      `<path d="${path(errPts)}" fill="none" stroke="#d62728" stroke-width="1.6"/>`,
    );
  }

  // Legend.
  SERIES.forEach((s, i) => {
    const lx = LEFT + 10 + i * 70;
    out.push(
      `<line x1="${lx}" y1="${LAT.top - 8}" x2="${lx + 18}" y2="${LAT.top - 8}" stroke="${s.color}" stroke-width="2.5"/>`,
      `<text x="${lx + 22}" y="${LAT.top - 4}">${s.label}</text>`,
    );
  });
  out.push(
    `<text x="${LEFT + 10}" y="${ERR.top - 8}">error rate per tick (unexpected status, resets, timeouts); latency over the evaluation window</text>`,
  );
  const kinds = [...new Set(r.events.map((e) => e.kind))];
  kinds.forEach((k, i) => {
    const lx = LEFT + 260 + i * 120;
    out.push(
      `<rect x="${lx}" y="${LAT.top - 17}" width="14" height="12" fill="${KIND_COLOR[k]}" fill-opacity="0.3"/>`,
      `<text x="${lx + 18}" y="${LAT.top - 7}">${k} event</text>`,
    );
  });

  // Violations: a marker where each began.
  for (const v of r.violations) {
    const vx = x(v.atSimMinute);
    const vy = ERR.bottom + 44;
    const color = v.severity === 'critical' ? '#d62728' : '#ff7f0e';
    out.push(
      `<g><title>${esc(`${v.invariant}: ${v.metric} ${v.observed} (want ${v.op} ${v.threshold}) at ${v.simTime}${v.at === 'end' ? ' over the run' : ''}`)}</title>`,
      `<path d="M${f1(vx)} ${vy - 10} L${f1(vx - 6)} ${vy} L${f1(vx + 6)} ${vy} Z" fill="${color}"/></g>`,
    );
  }
  if (r.violations.length)
    out.push(
      `<text x="${LEFT}" y="${H - 12}" font-size="11" fill="#555">▲ violation (red critical, orange warning), where it began</text>`,
    );
  out.push('</svg>');
  return `${out.join('\n')}\n`;
};
