// What a GitSource URL names: a local working tree, or a remote repository git can fetch. Userinfo
// in an http(s) URL is taken out (it becomes credentials), so neither the cache directory name nor
// anything git writes to disk ever holds a password.
import { createHash } from 'node:crypto';
import { isAbsolute, resolve } from 'node:path';
import { FetchError } from './fetch-error.ts';

export type SourceUrl =
  | { type: 'worktree'; path: string }
  | {
      type: 'remote';
      transport: 'file' | 'http' | 'ssh';
      /** The URL handed to git: no password anywhere in it. */
      url: string;
      /** The URL as safe to show in messages and logs. */
      display: string;
      /** Basic credentials that were written into the URL. */
      userinfo?: { username: string; password: string };
      /** Directory name under the cache: a hash of the URL without credentials. */
      cacheKey: string;
    };

const LOOPBACK = /^(localhost|127(\.\d{1,3}){3}|\[::1\])$/i;
// scp-like ssh syntax: [user@]host:path, where the host part has no slash and the path no `//`.
// `<transport>::<address>` (git's remote helpers, `ext::` runs commands) is not scp-like.
const SCP_LIKE =
  /^(?:([A-Za-z0-9._~-]+)@)?([A-Za-z0-9][A-Za-z0-9.-]*|\[[0-9A-Fa-f:.]+\]):(?!\/\/)([^:\s].*)$/;

const cacheKeyOf = (url: string) => createHash('sha256').update(url).digest('hex').slice(0, 32);

const remote = (
  transport: 'file' | 'http' | 'ssh',
  url: string,
  userinfo?: { username: string; password: string },
): SourceUrl => ({ type: 'remote', transport, url, display: url, userinfo, cacheKey: cacheKeyOf(url) });

/**
 * Classifies and checks a URL. A path that starts with `/`, `./` or `../` is a working tree,
 * relative ones resolved against the process's working directory.
 */
export const parseSourceUrl = (raw: string): SourceUrl => {
  const url = raw.trim();
  if (!url) throw new FetchError('InvalidURL', 'the URL is empty');
  if (isAbsolute(url) || url.startsWith('./') || url.startsWith('../') || url === '.' || url === '..') {
    return { type: 'worktree', path: resolve(url) };
  }
  const scp = SCP_LIKE.exec(url);
  if (scp && !/^[a-z][a-z0-9+.-]*:\/\//i.test(url)) {
    // `git@host:path` is ssh; a colon after a single letter is a Windows drive, not a host.
    if ((scp[2] ?? '').length > 1) return remote('ssh', url);
  }
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new FetchError('InvalidURL', `not a URL git can fetch: ${JSON.stringify(redact(url))}`);
  }
  switch (parsed.protocol) {
    case 'file:':
      if (parsed.host) throw new FetchError('InvalidURL', 'a file:// URL must not name a host');
      return remote('file', `file://${parsed.pathname}`);
    case 'https:':
    case 'http:': {
      if (parsed.protocol === 'http:' && !LOOPBACK.test(parsed.hostname)) {
        throw new FetchError(
          'InvalidURL',
          `plain http is allowed only to loopback, not to ${parsed.hostname}: use https`,
        );
      }
      const userinfo = parsed.username
        ? { username: decodeURIComponent(parsed.username), password: decodeURIComponent(parsed.password) }
        : undefined;
      parsed.username = '';
      parsed.password = '';
      return remote('http', parsed.toString(), userinfo);
    }
    case 'ssh:':
      // The user name is part of the address (git@); a password never belongs in an ssh URL.
      parsed.password = '';
      return remote('ssh', parsed.toString());
    default:
      throw new FetchError(
        'InvalidURL',
        `unsupported URL scheme ${parsed.protocol} (use https, ssh or file)`,
      );
  }
};

const redact = (url: string) => url.replace(/(:\/\/)[^/@\s]*@/, '$1***@');
