// An OpenSSH server on loopback for tests of git over ssh: its own host key and one authorized
// client key, for the current user. Absent sshd (Debian's openssh-server), `startSshd` returns
// undefined and the tests that need it skip.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { tempDir } from './tmp.ts';

const SSHD = '/usr/sbin/sshd';

export interface TestSshd {
  port: number;
  user: string;
  /** The authorized client's private key. */
  identity: string;
  /** A known_hosts line for this server. */
  knownHosts: string;
  /** `ssh://user@127.0.0.1:port<path>` */
  urlFor(path: string): string;
  close(): Promise<void>;
}

/** sshd is installed, and its privilege separation directory exists or can be made (as root). */
export const sshdAvailable = (): boolean =>
  existsSync(SSHD) && (existsSync('/run/sshd') || process.getuid?.() === 0);

const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });

export const keyPair = (dir: string, name: string): { privateKey: string; publicKey: string } => {
  const path = join(dir, name);
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', name, '-f', path]);
  return { privateKey: readFileSync(path, 'utf8'), publicKey: readFileSync(`${path}.pub`, 'utf8').trim() };
};

export const startSshd = async (): Promise<TestSshd | undefined> => {
  if (!sshdAvailable()) return undefined;
  // sshd insists on its privilege separation directory, even for a test instance.
  if (!existsSync('/run/sshd')) {
    try {
      mkdirSync('/run/sshd', { mode: 0o755 });
    } catch {
      return undefined;
    }
  }
  const dir = tempDir('simops-sshd-');
  keyPair(dir, 'host_key');
  const client = keyPair(dir, 'client');
  writeFileSync(join(dir, 'authorized_keys'), `${client.publicKey}\n`);
  const user = userInfo().username;
  const port = await freePort();
  const config = join(dir, 'sshd_config');
  writeFileSync(
    config,
    [
      `Port ${port}`,
      'ListenAddress 127.0.0.1',
      `HostKey ${join(dir, 'host_key')}`,
      `PidFile ${join(dir, 'sshd.pid')}`,
      `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`,
      `AllowUsers ${user}`,
      'StrictModes no',
      'UsePAM no',
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'PermitRootLogin prohibit-password',
      'LogLevel INFO',
      '',
    ].join('\n'),
  );
  const child = spawn(SSHD, ['-D', '-e', '-f', config], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  const listening = await new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => resolve(false), 5000);
    child.stderr.on('data', (chunk: Buffer) => {
      log += chunk.toString();
      if (log.includes('Server listening')) {
        clearTimeout(timer);
        resolve(true);
      }
    });
    child.once('exit', () => {
      clearTimeout(timer);
      resolve(false);
    });
  });
  if (!listening) {
    child.kill();
    throw new Error(`sshd did not start: ${log}`);
  }
  const hostKey = readFileSync(join(dir, 'host_key.pub'), 'utf8').trim().split(' ').slice(0, 2).join(' ');
  return {
    port,
    user,
    identity: client.privateKey,
    knownHosts: `[127.0.0.1]:${port} ${hostKey}\n`,
    urlFor: (path) => `ssh://${user}@127.0.0.1:${port}${path}`,
    close: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill();
      }),
  };
};
