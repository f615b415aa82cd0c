// Kubernetes Events for `kubectl describe`: one per state change, repeats counted, never fatal.
import { createHash, randomBytes } from 'node:crypto';
import type { KubeObject } from '../../apiserver/types.ts';
import type { KubeClient } from './kube-client.ts';
import type { Log } from './logger.ts';

export type EventType = 'Normal' | 'Warning';

export interface EventRecorder {
  record(object: KubeObject, type: EventType, reason: string, message: string): void;
  /** Resolves when every event recorded so far was sent (tests and shutdown). */
  flush(): Promise<void>;
}

const REPEAT_WINDOW_MS = 10 * 60 * 1000;
const now = () => `${new Date().toISOString().slice(0, 19)}Z`;

export const createEventRecorder = (client: KubeClient, log: Log, component = 'simops'): EventRecorder => {
  const seen = new Map<string, { name: string; namespace: string; count: number; at: number }>();
  const pending = new Set<Promise<void>>();

  const send = async (object: KubeObject, type: EventType, reason: string, message: string) => {
    const namespace = object.metadata.namespace ?? 'default';
    // A digest, not the text: 5,000 remembered messages would otherwise be kept whole.
    const key = createHash('sha1')
      .update(`${object.metadata.uid}\u0000${type}\u0000${reason}\u0000${message}`)
      .digest('base64');
    const previous = seen.get(key);
    if (previous && Date.now() - previous.at < REPEAT_WINDOW_MS) {
      previous.count++;
      previous.at = Date.now();
      await client.patchEvent(previous.namespace, previous.name, {
        count: previous.count,
        lastTimestamp: now(),
      });
      return;
    }
    const name = `${object.metadata.name}.${Date.now().toString(16)}${randomBytes(2).toString('hex')}`;
    const t = now();
    await client.createEvent(namespace, {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name, namespace },
      involvedObject: {
        apiVersion: object.apiVersion,
        kind: object.kind,
        name: object.metadata.name,
        namespace: object.metadata.namespace,
        uid: object.metadata.uid,
        resourceVersion: object.metadata.resourceVersion,
      },
      type,
      reason,
      message: message.slice(0, 1024),
      count: 1,
      firstTimestamp: t,
      lastTimestamp: t,
      source: { component },
      reportingComponent: component,
    });
    seen.set(key, { name, namespace, count: 1, at: Date.now() });
    if (seen.size > 5000) seen.delete(seen.keys().next().value as string);
  };

  return {
    record(object, type, reason, message) {
      const p = send(object, type, reason, message)
        .catch((err: unknown) => log.warn({ err, reason }, 'could not record event'))
        .finally(() => pending.delete(p));
      pending.add(p);
    },
    async flush() {
      await Promise.all([...pending]);
    },
  };
};
