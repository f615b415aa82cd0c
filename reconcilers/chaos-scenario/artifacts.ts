// The files of a run, under <artifactDir>/chaos/<namespace>/<name>/<runId>/: summary.json (the
// report without the timeline), summary.txt (the readable summary), timeline.jsonl (one line per
// tick) and chart.svg.
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { renderChart } from './chart.ts';
import type { RunReport } from './runner.ts';
import { renderSummary } from './summary.ts';

export interface RunArtifacts {
  location: string;
  summary: string;
  timeline: string;
  chart: string;
}

export const runDirectory = (artifactDir: string, namespace: string, name: string, runId: string): string =>
  join(artifactDir, 'chaos', namespace, name, runId);

export const artifactPaths = (dir: string): RunArtifacts => ({
  location: dir,
  summary: join(dir, 'summary.json'),
  timeline: join(dir, 'timeline.jsonl'),
  chart: join(dir, 'chart.svg'),
});

const writeAtomic = async (path: string, content: string) => {
  await writeFile(`${path}.tmp`, content);
  await rename(`${path}.tmp`, path);
};

export const writeArtifacts = async (dir: string, report: RunReport): Promise<RunArtifacts> => {
  await mkdir(dir, { recursive: true });
  const paths = artifactPaths(dir);
  const { timeline, ...rest } = report;
  await writeAtomic(
    paths.timeline,
    timeline.map((row) => JSON.stringify(row)).join('\n') + (timeline.length ? '\n' : ''),
  );
  await writeAtomic(paths.chart, renderChart(report));
  await writeAtomic(join(dir, 'summary.txt'), renderSummary(report));
  await writeAtomic(
    paths.summary,
    `${JSON.stringify({ ...rest, summaryText: renderSummary(report) }, null, 2)}\n`,
  );
  return paths;
};
