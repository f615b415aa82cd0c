// Git credentials from the Secret a GitSource names, with Flux's key names.
import type { GitCredentials } from '../../controller/gitops/git-env.ts';
import { coreKind } from '../../controller/runtime/kinds.ts';
import type { KubeClient } from '../../controller/runtime/kube-client.ts';

export type { GitCredentials } from '../../controller/gitops/git-env.ts';

export class MissingSecretError extends Error {}

const decode = (data: Record<string, string> | undefined, key: string) =>
  data?.[key] !== undefined ? Buffer.from(data[key]!, 'base64').toString('utf8') : undefined;

export const readSecret = async (client: KubeClient, namespace: string, name: string) => {
  const secret = await client.get(coreKind('Secret'), namespace, name);
  if (!secret) throw new MissingSecretError(`Secret ${namespace}/${name} not found`);
  const data = (secret.data ?? {}) as Record<string, string>;
  const stringData = (secret.stringData ?? {}) as Record<string, string>;
  return (key: string) => stringData[key] ?? decode(data, key);
};

export const gitCredentials = async (
  client: KubeClient,
  namespace: string,
  name: string,
): Promise<GitCredentials> => {
  const value = await readSecret(client, namespace, name);
  return {
    username: value('username'),
    password: value('password'),
    bearerToken: value('bearerToken'),
    identity: value('identity'),
    knownHosts: value('known_hosts'),
  };
};

/** The webhook receiver's shared secret for a GitSource (key `webhookToken` of its Secret). */
export const webhookToken = async (
  client: KubeClient,
  namespace: string,
  name: string,
): Promise<string | undefined> => {
  try {
    return (await readSecret(client, namespace, name))('webhookToken');
  } catch {
    return undefined;
  }
};
