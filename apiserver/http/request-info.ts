// Parses a resource URL the way Kubernetes' RequestInfoFactory does.

export interface ResourceRequest {
  group: string;
  version: string;
  /** undefined for cluster-wide requests. */
  namespace?: string;
  resource: string;
  name?: string;
  subresource?: string;
  /** The legacy `/watch/` path prefix. */
  watchPath: boolean;
}

const NAMESPACE_SUBRESOURCES = new Set(['status', 'finalize']);

export const parseResourcePath = (pathname: string): ResourceRequest | undefined => {
  let parts: string[];
  try {
    parts = pathname.split('/').filter(Boolean).map(decodeURIComponent);
  } catch {
    return undefined;
  }
  let group: string;
  let version: string;
  if (parts[0] === 'api' && parts.length >= 3) {
    group = '';
    version = parts[1]!;
    parts = parts.slice(2);
  } else if (parts[0] === 'apis' && parts.length >= 4) {
    group = parts[1]!;
    version = parts[2]!;
    parts = parts.slice(3);
  } else return undefined;
  let watchPath = false;
  if (parts[0] === 'watch') {
    watchPath = true;
    parts = parts.slice(1);
  }
  let namespace: string | undefined;
  let inNamespace = false;
  if (parts[0] === 'namespaces' && parts.length > 1) {
    namespace = parts[1]!;
    inNamespace = parts.length > 2 && !NAMESPACE_SUBRESOURCES.has(parts[2]!);
    if (inNamespace) parts = parts.slice(2);
  }
  const [resource, name, subresource, ...rest] = parts;
  if (!resource || rest.length) return undefined;
  if (resource === 'namespaces' && !inNamespace) {
    // `/api/v1/namespaces/foo` names the namespace itself, which is cluster-scoped.
    return { group, version, resource, name: namespace, subresource: parts[2], watchPath };
  }
  return { group, version, namespace, resource, name, subresource, watchPath };
};
