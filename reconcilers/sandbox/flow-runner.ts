// Flows in a real headless Chromium through playwright-core: seed 000's steps (navigate, fill,
// click, wait, screenshot, verify_no_errors) plus wait_for and assert_text. Each run gets a fresh
// browser profile; a failing step says which selector or error, later steps are skipped, and a
// screenshot of the page at the failure is kept with the others.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import type { FlowT } from '../simulator/config.ts';

export type StepT = FlowT['steps'][number];

export interface StepOutcome {
  index: number;
  type: string;
  description?: string;
  result: 'Passed' | 'Failed' | 'Skipped';
  durationMs: number;
  message?: string;
  screenshot?: string;
}

export interface FlowOutcome {
  result: 'Passed' | 'Failed';
  message?: string;
  steps: StepOutcome[];
  screenshots: string[];
  durationMs: number;
}

export interface FlowRunOptions {
  /** The sandbox endpoint; relative navigate URLs are resolved against it. */
  baseUrl: string;
  /** Screenshots and result.json go here. */
  outDir: string;
  signal?: AbortSignal;
  /** A step's default timeout (default 5 s); a step's timeoutMs overrides it. */
  stepTimeoutMs?: number;
  /** Called as the run goes (after each step). */
  onProgress?: (p: FlowProgress) => void;
}

export interface FlowProgress {
  /** The steps run so far. */
  steps: StepOutcome[];
  /** Set while the run waits for a job queue that cannot be reached: why. */
  queueUnavailable?: string;
}

export interface FlowRunner {
  run(flow: FlowT, opts: FlowRunOptions): Promise<FlowOutcome>;
}

/** Chromium's flags for running in a container without a display (anchors.md). */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export const DEFAULT_CHROMIUM = process.env.SIMOPS_CHROMIUM ?? '/usr/bin/chromium';

/** Text that marks an error on a page (verify_no_errors). */
const ERROR_SELECTOR = '.error, .errors, .error-message, .alert-danger, .alert-error, [role="alert"]';

// Loaded on the first flow: playwright-core is ~30 MB of heap that a controller without flows
// (or one that queues them to workers) never needs.
let playwright: Promise<typeof import('playwright-core')> | undefined;
const loadPlaywright = () => {
  playwright ??= import('playwright-core');
  return playwright;
};

/** A short, readable reason from a Playwright error. */
const reason = (
  errors: typeof import('playwright-core').errors,
  err: unknown,
  step: StepT,
  timeoutMs: number,
): string => {
  if (err instanceof errors.TimeoutError) {
    if (step.selector) return `no element matches ${JSON.stringify(step.selector)} within ${timeoutMs} ms`;
    if (step.text) return `the text ${JSON.stringify(step.text)} did not appear within ${timeoutMs} ms`;
    if (step.url) return `the page did not reach ${JSON.stringify(step.url)} within ${timeoutMs} ms`;
    return `timed out after ${timeoutMs} ms`;
  }
  const msg = err instanceof Error ? err.message : String(err);
  return msg
    .split('\n')[0]!
    .replace(/^[a-zA-Z.]+: /, '')
    .slice(0, 500);
};

const describeStep = (s: StepT) => {
  const target =
    s.selector ?? s.url ?? s.filename ?? (s.text !== undefined ? JSON.stringify(s.text) : undefined);
  return `${s.type}${target ? ` ${target}` : ''}`;
};

/** Only the file name, made safe, with a .png extension. */
export const screenshotName = (filename: string): string => {
  const base = basename(filename).replace(/[^A-Za-z0-9._-]/g, '_') || 'screenshot';
  return base.toLowerCase().endsWith('.png') ? base : `${base}.png`;
};

interface PageErrors {
  list: string[];
}

const watchErrors = (page: Page): PageErrors => {
  const found: PageErrors = { list: [] };
  page.on('pageerror', (e) => found.list.push(`uncaught ${e.name}: ${e.message}`));
  page.on('console', (m) => {
    // A failed resource is reported by its response below; favicon misses are not the app's errors.
    if (m.type() === 'error' && !m.text().startsWith('Failed to load resource'))
      found.list.push(`console error: ${m.text()}`);
  });
  page.on('response', (r) => {
    const type = r.request().resourceType();
    if (r.status() >= 400 && ['document', 'xhr', 'fetch'].includes(type))
      found.list.push(`HTTP ${r.status()} from ${r.request().method()} ${new URL(r.url()).pathname}`);
  });
  return found;
};

const runStep = async (
  page: Page,
  step: StepT,
  ctx: { baseUrl: string; outDir: string; timeoutMs: number; errors: PageErrors; signal?: AbortSignal },
): Promise<{ message?: string; screenshot?: string }> => {
  const timeout = step.timeoutMs ?? ctx.timeoutMs;
  switch (step.type) {
    case 'navigate': {
      const url = new URL(step.url!, ctx.baseUrl).href;
      const res = await page.goto(url, { waitUntil: 'load', timeout: Math.max(timeout, 15_000) });
      return { message: `HTTP ${res?.status() ?? '?'} ${url}` };
    }
    case 'fill':
      await page.fill(step.selector!, step.value!, { timeout });
      return {};
    case 'click':
      await page.click(step.selector!, { timeout });
      return {};
    case 'wait':
      if (step.selector) {
        await page.waitForSelector(step.selector, {
          state: 'visible',
          timeout: step.timeoutMs ?? Math.max(timeout, step.duration ?? 0),
        });
        return {};
      }
      await new Promise<void>((resolve, reject) => {
        const t = setTimeout(resolve, step.duration ?? 0);
        ctx.signal?.addEventListener('abort', () => {
          clearTimeout(t);
          reject(ctx.signal?.reason);
        });
      });
      return {};
    case 'wait_for': {
      const state = step.state ?? 'visible';
      if (step.selector) await page.waitForSelector(step.selector, { state, timeout });
      if (step.text !== undefined) await page.getByText(step.text).first().waitFor({ state, timeout });
      if (step.url !== undefined) {
        const want = step.url;
        await page.waitForURL((u) => u.href.includes(want) || u.pathname === want, { timeout });
      }
      return {};
    }
    case 'assert_text': {
      const selector = step.selector ?? 'body';
      const text = await page.locator(selector).first().innerText({ timeout });
      if (!text.includes(step.text!)) {
        const shown = text.replace(/\s+/g, ' ').trim().slice(0, 200);
        throw new Error(
          `${JSON.stringify(selector)} does not contain ${JSON.stringify(step.text)} (it reads ${JSON.stringify(shown)})`,
        );
      }
      return {};
    }
    case 'screenshot': {
      const path = join(ctx.outDir, screenshotName(step.filename!));
      await page.screenshot({ path, fullPage: true, timeout: Math.max(timeout, 10_000) });
      return { screenshot: path };
    }
    case 'verify_no_errors': {
      const shown: string[] = [];
      for (const el of await page.locator(ERROR_SELECTOR).all()) {
        if (!(await el.isVisible())) continue;
        const t = (await el.innerText()).trim();
        if (t) shown.push(`the page shows an error: ${JSON.stringify(t.slice(0, 200))}`);
      }
      const all = [...ctx.errors.list, ...shown];
      if (all.length) throw new Error(all.slice(0, 5).join('; '));
      return {};
    }
    default:
      throw new Error(`unknown step type ${JSON.stringify((step as { type: string }).type)}`);
  }
};

/** At most this many browsers at once in this process. */
export const MAX_BROWSERS = 2;
let running = 0;
const waiting: (() => void)[] = [];
const slot = async () => {
  while (running >= MAX_BROWSERS) await new Promise<void>((r) => waiting.push(r));
  running++;
  return () => {
    running--;
    waiting.shift()?.();
  };
};

export const chromiumFlowRunner = (executablePath = DEFAULT_CHROMIUM): FlowRunner => ({
  async run(flow, opts) {
    const started = performance.now();
    const { chromium, errors } = await loadPlaywright();
    await mkdir(opts.outDir, { recursive: true });
    const release = await slot();
    const profile = await mkdtemp(join(tmpdir(), 'simops-chromium-'));
    let context: BrowserContext | undefined;
    const steps: StepOutcome[] = [];
    const screenshots: string[] = [];
    let failure: string | undefined;
    const onAbort = () => void context?.close().catch(() => {});
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    try {
      context = await chromium.launchPersistentContext(profile, {
        executablePath,
        headless: true,
        args: CHROMIUM_ARGS,
        viewport: { width: 1280, height: 800 },
      });
      const page = context.pages()[0] ?? (await context.newPage());
      const found = watchErrors(page);
      const timeoutMs = opts.stepTimeoutMs ?? 5000;
      for (const [i, step] of flow.steps.entries()) {
        const base = {
          index: i + 1,
          type: step.type,
          ...(step.description ? { description: step.description } : {}),
        };
        if (failure) {
          steps.push({ ...base, result: 'Skipped', durationMs: 0 });
          continue;
        }
        const t0 = performance.now();
        try {
          opts.signal?.throwIfAborted();
          const r = await runStep(page, step, { ...opts, timeoutMs, errors: found });
          if (r.screenshot) screenshots.push(r.screenshot);
          steps.push({ ...base, result: 'Passed', durationMs: Math.round(performance.now() - t0), ...r });
          opts.onProgress?.({ steps: [...steps] });
        } catch (err) {
          const message = opts.signal?.aborted
            ? 'the run was cancelled'
            : reason(errors, err, step, step.timeoutMs ?? timeoutMs);
          failure = `step ${i + 1} (${describeStep(step)}) failed: ${message}`;
          let shot: string | undefined;
          if (!opts.signal?.aborted) {
            shot = join(opts.outDir, `failed-step-${i + 1}.png`);
            await page.screenshot({ path: shot, fullPage: true, timeout: 5000 }).catch(() => {
              shot = undefined;
            });
            if (shot) screenshots.push(shot);
          }
          steps.push({
            ...base,
            result: 'Failed',
            durationMs: Math.round(performance.now() - t0),
            message,
            ...(shot ? { screenshot: shot } : {}),
          });
        }
      }
    } catch (err) {
      failure = `the browser could not run the flow: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`;
    } finally {
      opts.signal?.removeEventListener('abort', onAbort);
      await context?.close().catch(() => {});
      await rm(profile, { recursive: true, force: true });
      release();
    }
    const outcome: FlowOutcome = {
      result: failure ? 'Failed' : 'Passed',
      ...(failure ? { message: failure } : {}),
      steps,
      screenshots,
      durationMs: Math.round(performance.now() - started),
    };
    await writeFile(
      join(opts.outDir, 'result.json'),
      `${JSON.stringify({ flow: flow.name, ...outcome }, null, 2)}\n`,
    );
    return outcome;
  },
});
