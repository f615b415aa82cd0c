import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { openLogFile, redact } from './log-file.ts';
import {
  CommandError,
  expand,
  portVariable,
  resolveCommand,
  resolveWorkingDir,
  serviceEnv,
} from './process-command.ts';

describe('process commands', () => {
  it('resolve node to this Node.js, bare names on the PATH, and paths inside the working directory only', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'simops-cmd-'));
    mkdirSync(join(dir, 'bin'));
    writeFileSync(join(dir, 'bin', 'start'), '#!/bin/sh\n');
    chmodSync(join(dir, 'bin', 'start'), 0o755);
    writeFileSync(join(dir, 'bin', 'plain'), 'x');
    symlinkSync('/bin/sh', join(dir, 'bin', 'sh-link'));
    assert.equal(await resolveCommand('node', dir), process.execPath);
    assert.match(await resolveCommand('sh', dir), /\/sh$/);
    assert.equal(await resolveCommand('./bin/start', dir), join(dir, 'bin', 'start'));
    const refused = async (cmd: string, re: RegExp) =>
      assert.rejects(resolveCommand(cmd, dir), (e: Error) => e instanceof CommandError && re.test(e.message));
    await refused('/bin/sh', /must be relative/);
    await refused('../../bin/sh', /leaves the sandbox working directory/);
    await refused('bin/sh-link', /resolves outside/);
    await refused('bin/missing', /does not exist/);
    await refused('bin/plain', /not executable/);
    await refused('no-such-command-anywhere', /not found on the PATH/);
    assert.equal(await resolveWorkingDir(dir, 'bin'), join(dir, 'bin'));
    await assert.rejects(resolveWorkingDir(dir, '..'), /leaves the sandbox directory/);
  });

  it('expand $(NAME) as Kubernetes does, and give a small environment of its own', () => {
    assert.equal(expand('$(SIMOPS_PORT_WEB)', { SIMOPS_PORT_WEB: '4100' }), '4100');
    assert.equal(expand('x$(UNKNOWN)y $$(LITERAL)', {}), 'x$(UNKNOWN)y $(LITERAL)');
    assert.equal(portVariable('web-ui.v2'), 'SIMOPS_PORT_WEB_UI_V2');
    const env = serviceEnv(
      { SIMOPS_PORT_WEB: '4100' },
      { PORT: '$(SIMOPS_PORT_WEB)', DSN: 'u:$(DB_PASSWORD)' },
      { DB_PASSWORD: 's3cret' },
    );
    assert.equal(env.PORT, '4100');
    assert.equal(env.DSN, 'u:s3cret');
    assert.equal(env.KUBECONFIG, undefined);
    assert.equal(env.PATH, process.env.PATH);
  });
});

describe('log artifacts', () => {
  it('redact secret values, line by line across chunks', async () => {
    assert.equal(redact('pw=hunter22 and hunter22', ['hunter22']), 'pw=[redacted] and [redacted]');
    const dir = await mkdtemp(join(tmpdir(), 'simops-log-'));
    const log = openLogFile(join(dir, 'logs', 'web.log'), ['hunter22', 'ab']);
    log.write('stdout', 'starting with hun');
    log.write('stdout', 'ter22\nsecond line ab\npartial');
    log.write('stderr', 'oops hunter22\n');
    await log.close();
    const text = readFileSync(join(dir, 'logs', 'web.log'), 'utf8');
    assert.equal(text, 'starting with [redacted]\nsecond line ab\noops [redacted]\npartial\n');
    assert.deepEqual(log.tail().at(-1), 'partial');
  });
});
