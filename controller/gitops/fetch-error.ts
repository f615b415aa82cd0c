// The one error a fetch fails with: a reason the GitSource reconciler can put in a condition, and
// a message that is safe to show (no password, token or key ever reaches it).

export type FetchErrorReason =
  | 'AuthenticationFailed'
  | 'RefNotFound'
  | 'GitOperationFailed'
  | 'Timeout'
  | 'InvalidURL';

export class FetchError extends Error {
  readonly reason: FetchErrorReason;

  constructor(reason: FetchErrorReason, message: string) {
    super(message);
    this.name = 'FetchError';
    this.reason = reason;
  }
}

const AUTH_FAILURE = [
  /authentication failed/i,
  /could not read (username|password)/i,
  /terminal prompts disabled/i,
  /permission denied \(/i, // ssh: (publickey), (publickey,password), ...
  /returned error: 40[13]\b/i,
  /\b40[13] (unauthorized|forbidden)\b/i,
  /access denied/i,
  /host key verification failed/i, // the server could not be authenticated against known_hosts
  /no (matching )?host key/i,
];

const REF_NOT_FOUND = [
  /couldn't find remote ref/i,
  /remote branch .* not found/i,
  /not our ref/i,
  /unknown revision/i,
  /bad revision/i,
  /needed a single revision/i,
  /invalid reference/i,
];

/** What git's own message says went wrong. */
export const classifyGitFailure = (stderr: string): FetchErrorReason => {
  if (AUTH_FAILURE.some((re) => re.test(stderr))) return 'AuthenticationFailed';
  if (REF_NOT_FOUND.some((re) => re.test(stderr))) return 'RefNotFound';
  return 'GitOperationFailed';
};

/**
 * Removes every secret (and user:password@ in any URL) from a message. Secrets shorter than 4
 * characters are still replaced: a one-letter password must not survive either.
 */
export const scrub = (message: string, secrets: readonly string[]): string => {
  let out = message.replace(/([a-z][a-z0-9+.-]*:\/\/)[^/@\s]*@/gi, '$1***@');
  const ordered = [...new Set(secrets.filter((s) => s.length > 0))].sort((a, b) => b.length - a.length);
  for (const secret of ordered) out = out.split(secret).join('***');
  return out;
};

/** The useful part of git's output: the `fatal:`/`error:` lines, or the last lines. */
export const summarizeGitOutput = (text: string): string => {
  const lines = text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter(Boolean);
  const important = lines.filter((l) => /^(fatal|error|remote|ERROR):/i.test(l) || /denied|failed/i.test(l));
  return (important.length ? important : lines.slice(-3)).slice(0, 5).join('; ');
};
