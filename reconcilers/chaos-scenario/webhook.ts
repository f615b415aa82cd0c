// Application events reach the target as a signed webhook: a JSON POST to its chaos hook with
// `X-SimOps-Signature-256: sha256=<hex HMAC-SHA256 of the body>` (GitHub's scheme), once when the
// event starts and once when it ends. Retried twice; the outcome is reported, never thrown.
import { createHmac, randomUUID } from 'node:crypto';

export const SIGNATURE_HEADER = 'x-simops-signature-256';
export const EVENT_HEADER = 'x-simops-event';
export const DELIVERY_HEADER = 'x-simops-delivery';

export interface HookPayload {
  type: string;
  phase: 'start' | 'end';
  parameters: Record<string, unknown>;
  triggerAt: number;
  duration: number;
  simMinute: number;
  runId: string;
  seed: number;
  scenario: string;
}

export interface Delivery {
  ok: boolean;
  status?: number;
  error?: string;
  attempts: number;
}

export const sign = (secret: string, body: string): string =>
  `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;

export const deliverHook = async (
  url: string,
  secret: string | undefined,
  payload: HookPayload,
  signal?: AbortSignal,
  timeoutMs = 2000,
): Promise<Delivery> => {
  const body = JSON.stringify({ ...payload, sentAt: new Date().toISOString() });
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    [EVENT_HEADER]: payload.type,
    [DELIVERY_HEADER]: randomUUID(),
  };
  if (secret) headers[SIGNATURE_HEADER] = sign(secret, body);
  let last: Delivery = { ok: false, attempts: 0 };
  for (let attempt = 1; attempt <= 3; attempt++) {
    if (signal?.aborted) break;
    try {
      const res = await fetch(url, {
        method: 'POST',
        headers,
        body,
        signal: signal
          ? AbortSignal.any([signal, AbortSignal.timeout(timeoutMs)])
          : AbortSignal.timeout(timeoutMs),
      });
      await res.arrayBuffer();
      last = { ok: res.ok, status: res.status, attempts: attempt };
      if (res.ok || (res.status >= 400 && res.status < 500)) return last;
    } catch (err) {
      last = { ok: false, error: (err as Error).message, attempts: attempt };
    }
    await new Promise((r) => setTimeout(r, 100 * attempt));
  }
  return last;
};
