// The noise floor of bench/chaos.ts: the same absolute-scheduled 100 ms tick loop as the runner's
// clock, in a process that does nothing else. Runs for argv[2] seconds and prints its drift.
const seconds = Number(process.argv[2] ?? 20);
const tickMs = 100;
const drifts = [];
const t0 = performance.now();
for (let k = 1; k <= (seconds * 1000) / tickMs; k++) {
  const due = t0 + k * tickMs;
  await new Promise((r) => setTimeout(r, Math.max(0, due - performance.now())));
  drifts.push(Math.max(0, performance.now() - due));
}
drifts.sort((a, b) => a - b);
const q = (p) => drifts[Math.min(drifts.length - 1, Math.ceil(p * drifts.length) - 1)];
console.log(JSON.stringify({ p50: q(0.5), p99: q(0.99), max: drifts[drifts.length - 1] }));
