// The run's chart as a person sees it: a short run with an error burst, its chart.svg opened in
// headless Chromium (Debian's, through playwright-core, as the Sandbox flows use it).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { chromium } from 'playwright-core';
import type { ChaosScenarioSpec } from '../crds/chaos-scenario.ts';
import { writeArtifacts } from '../reconcilers/chaos-scenario/artifacts.ts';
import { resolveScenario } from '../reconcilers/chaos-scenario/resolve.ts';
import { runScenario } from '../reconcilers/chaos-scenario/runner.ts';
import { CHROMIUM_ARGS, DEFAULT_CHROMIUM } from '../reconcilers/sandbox/flow-runner.ts';
import { tempDir } from './helpers/tmp.ts';

describe('chaos chart', () => {
  let server: Server;
  let chart = '';
  const dir = tempDir('simops-chaos-chart-');

  before(async () => {
    server = createServer((req, res) => {
      req.resume();
      res.end('{"ok":true}');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const resolved = resolveScenario({
      target: { url, allowExternal: false },
      seed: 3,
      state: 'Active',
      duration: { realSeconds: 3, simHours: 1 },
      policies: { customerSpawnRate: 40, tickMs: 50 },
      journeys: [
        {
          name: 'j',
          agent: 'customer',
          weight: 1,
          steps: [{ name: 'a', method: 'GET', path: '/', thinkTimeMs: 10 }],
        },
      ],
      events: [{ type: 'ERRORS', triggerAt: 20, duration: 15, parameters: { rate: 0.5 } }],
      invariants: [{ name: 'api_error_rate', metric: 'error_rate', op: '<', threshold: 0.01 }],
    } as unknown as ChaosScenarioSpec);
    assert.ok(resolved.ok);
    const report = await runScenario(
      { scenario: resolved.scenario, runId: 'chart', scenarioName: 'default/chart', target: { url } },
      { signal: new AbortController().signal },
    );
    chart = (await writeArtifacts(dir, report)).chart;
  });
  after(() => new Promise<void>((r) => server.close(() => r())));

  it('renders in headless Chromium: both panels, the shaded event window, the error burst inside it', async () => {
    const browser = await chromium.launch({
      executablePath: DEFAULT_CHROMIUM,
      headless: true,
      args: CHROMIUM_ARGS,
    });
    try {
      const page = await browser.newPage({ viewport: { width: 1000, height: 600 } });
      const problems: string[] = [];
      page.on('console', (m) => m.type() === 'error' && problems.push(m.text()));
      await page.goto(`file://${chart}`);
      // In the page (a string: this project's TypeScript has no DOM types).
      const seen = (await page.evaluate(`(() => {
        const svg = document.querySelector('svg');
        const shaded = [...svg.querySelectorAll('rect')].filter(
          (r) => r.getAttribute('fill') === '#d62728' && r.getAttribute('fill-opacity') === '0.13',
        );
        const errorLine = [...svg.querySelectorAll('path')].filter(
          (p) => p.getAttribute('stroke') === '#d62728' && p.getAttribute('fill') === 'none',
        );
        return {
          width: svg.getBoundingClientRect().width,
          height: svg.getBoundingClientRect().height,
          window: shaded.map((r) => ({ x: r.getBBox().x, width: r.getBBox().width })),
          errorLine: errorLine.map((p) => ({ height: p.getBBox().height })),
          texts: [...svg.querySelectorAll('text')].map((t) => t.textContent),
        };
      })()`)) as {
        width: number;
        height: number;
        window: { x: number; width: number }[];
        errorLine: { height: number }[];
        texts: (string | null)[];
      };
      assert.deepEqual(problems, []);
      assert.equal(seen.width, 1000);
      assert.equal(seen.height, 600);
      // One shaded window per panel, a third of the way along 20–35 of 60 sim minutes.
      assert.equal(seen.window.length, 2);
      assert.ok(
        seen.window[0]!.x > 70 + 900 * 0.3 && seen.window[0]!.x < 70 + 900 * 0.37,
        JSON.stringify(seen.window),
      );
      assert.ok(
        seen.errorLine.some((p) => p.height > 20),
        'the error line rises',
      );
      assert.ok(seen.texts.includes('ERRORS'));
      assert.ok(seen.texts.some((t) => t?.startsWith('FAILED')));
      const png = await page.screenshot({ path: join(dir, 'chart.png') });
      assert.ok(png.length > 20_000, `screenshot of ${png.length} bytes`);
    } finally {
      await browser.close();
    }
    assert.match(readFileSync(chart, 'utf8'), /^<svg /);
  });
});
