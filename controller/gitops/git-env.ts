// The environment of one git invocation: credentials for exactly that call and nothing ambient.
// HTTP credentials travel as `http.extraHeader` through GIT_CONFIG_COUNT/KEY/VALUE (the
// environment-variable form of `-c`): like `-c` they apply to this process only and are never
// written to `.git/config`, and unlike `-c` they do not show in `ps` to other users. An ssh key
// and known_hosts are written to a fresh 0700 directory that `dispose()` removes.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface GitCredentials {
  username?: string;
  password?: string;
  bearerToken?: string;
  /** A private key in OpenSSH or PEM form. */
  identity?: string;
  /** known_hosts lines for the server; without them no ssh host is trusted. */
  knownHosts?: string;
}

export interface GitEnv {
  env: Record<string, string>;
  /** Every string that must never appear in a message. */
  secrets: string[];
  /** The GIT_* variables simple-git must let through. */
  allow: string[];
  dispose(): Promise<void>;
}

// Passed through from the controller's own environment: what git needs to find itself, reach the
// network through a proxy and trust the platform's CAs. Nothing else: no askpass helpers, editors
// or pagers.
const PASS_THROUGH = [
  'PATH',
  'HOME',
  'TMPDIR',
  'http_proxy',
  'https_proxy',
  'no_proxy',
  'HTTP_PROXY',
  'HTTPS_PROXY',
  'NO_PROXY',
  'ALL_PROXY',
  'SSL_CERT_FILE',
  'SSL_CERT_DIR',
];

const shellQuote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

export const gitEnv = async (
  transport: 'file' | 'http' | 'ssh',
  credentials: GitCredentials = {},
  timeoutMs = 60_000,
): Promise<GitEnv> => {
  const env: Record<string, string> = {};
  for (const key of PASS_THROUGH) {
    const value = process.env[key];
    if (value !== undefined) env[key] = value;
  }
  // English messages (they are classified by text), never a prompt, only these transports.
  env.LC_ALL = 'C';
  env.LANGUAGE = 'C';
  env.GIT_TERMINAL_PROMPT = '0';
  env.GIT_ALLOW_PROTOCOL = 'file:http:https:ssh';
  const config: [string, string][] = [
    // No credential helper of the host answers for a GitSource: only its own Secret does.
    ['credential.helper', ''],
    ['advice.detachedHead', 'false'],
    // A server that stops sending is abandoned by git itself too, not only by our abort.
    ['http.lowSpeedLimit', '1'],
    ['http.lowSpeedTime', String(Math.max(1, Math.ceil(timeoutMs / 1000)))],
  ];
  const secrets: string[] = [];
  let tempDir: string | undefined;

  if (transport === 'http') {
    const { username, password, bearerToken } = credentials;
    let header: string | undefined;
    if (bearerToken) {
      header = `Authorization: Bearer ${bearerToken}`;
      secrets.push(bearerToken);
    } else if (username !== undefined || password !== undefined) {
      const basic = Buffer.from(`${username ?? ''}:${password ?? ''}`).toString('base64');
      header = `Authorization: Basic ${basic}`;
      secrets.push(basic);
      if (password) secrets.push(password);
    }
    if (header) {
      config.push(['http.extraHeader', header]);
      secrets.push(header);
    }
  }

  const sshOptions = [
    '-F /dev/null',
    '-o BatchMode=yes',
    `-o ConnectTimeout=${Math.max(1, Math.ceil(timeoutMs / 1000))}`,
  ];
  if (transport === 'ssh') {
    tempDir = await mkdtemp(join(tmpdir(), 'simops-ssh-'));
    const knownHosts = join(tempDir, 'known_hosts');
    await writeFile(knownHosts, credentials.knownHosts ?? '', { mode: 0o600 });
    sshOptions.push(
      `-o UserKnownHostsFile=${shellQuote(knownHosts)}`,
      '-o GlobalKnownHostsFile=/dev/null',
      '-o StrictHostKeyChecking=yes',
    );
    if (credentials.identity) {
      const identity = join(tempDir, 'identity');
      // ssh refuses a key without a final newline in some formats.
      const key = credentials.identity.endsWith('\n') ? credentials.identity : `${credentials.identity}\n`;
      await writeFile(identity, key, { mode: 0o600 });
      sshOptions.push(`-i ${shellQuote(identity)}`, '-o IdentitiesOnly=yes', '-o IdentityAgent=none');
      secrets.push(credentials.identity.trim(), ...keyLines(credentials.identity));
    }
    env.GIT_SSH_COMMAND = `ssh ${sshOptions.join(' ')}`;
  }

  env.GIT_CONFIG_COUNT = String(config.length);
  config.forEach(([key, value], i) => {
    env[`GIT_CONFIG_KEY_${i}`] = key;
    env[`GIT_CONFIG_VALUE_${i}`] = value;
  });

  return {
    env,
    secrets,
    allow: Object.keys(env).filter((k) => k.startsWith('GIT_')),
    dispose: async () => {
      if (tempDir) await rm(tempDir, { recursive: true, force: true });
    },
  };
};

// The body lines of a PEM/OpenSSH key, so that no fragment of it survives in a message either.
const keyLines = (key: string) =>
  key
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l.length >= 16 && !l.startsWith('-----'));
