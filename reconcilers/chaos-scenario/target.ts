// Where a scenario may send traffic: loopback, or a name inside the cluster (a Service name, or
// `*.svc` / `*.cluster.local`), unless allowExternal. The chaos hook and the metrics endpoint are
// paths on the target or URLs held to the same rule. Pure.
import { isIP } from 'node:net';

export const DEFAULT_HOOK_PATH = '/api/chaos';
export const DEFAULT_METRICS_PATH = '/metrics.json';

const isLoopback = (host: string): boolean => {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  if (h === 'localhost' || h.endsWith('.localhost')) return true;
  if (isIP(h) === 4) return h.startsWith('127.');
  if (isIP(h) === 6) return h === '::1' || h === '0:0:0:0:0:0:0:1';
  return false;
};

const isInCluster = (host: string): boolean => {
  const h = host.toLowerCase();
  if (isIP(h.replace(/^\[|\]$/g, ''))) return false;
  return (
    !h.includes('.') || h.endsWith('.svc') || h.endsWith('.cluster.local') || /\.svc\.[a-z0-9.-]+$/.test(h)
  );
};

export type TargetCheck = { ok: true; url: string } | { ok: false; reason: string };

/** Checks a URL against the target rule; the URL comes back normalised (no trailing slash). */
export const checkTargetUrl = (raw: string, allowExternal: boolean): TargetCheck => {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { ok: false, reason: `${JSON.stringify(raw)} is not a URL` };
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    return { ok: false, reason: `${raw}: only http and https targets` };
  if (!allowExternal && !isLoopback(url.hostname) && !isInCluster(url.hostname))
    return {
      ok: false,
      reason: `${url.host} is neither loopback nor in the cluster; set target.allowExternal: true to allow it`,
    };
  return { ok: true, url: url.toString().replace(/\/$/, '') };
};

/** A hook or metrics location: a path on the target, or a URL under the same rule. */
export const resolveEndpoint = (
  value: string | undefined,
  fallbackPath: string,
  base: string,
  allowExternal: boolean,
): TargetCheck => {
  const v = value ?? fallbackPath;
  if (v.startsWith('/')) return { ok: true, url: base.replace(/\/$/, '') + v };
  return checkTargetUrl(v, allowExternal);
};
