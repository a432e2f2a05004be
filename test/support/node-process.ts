import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import path from 'node:path';

const ENTRY = path.resolve('src/cli/entry.ts');

/** Runs one `keygate …` command to completion. */
export function keygateCli(args: string[], env: Record<string, string>) {
  const result = spawnSync(process.execPath, ['--import', 'tsx', ENTRY, ...args], {
    env: { ...process.env, KEYGATE_LOG_LEVEL: 'silent', ...env },
    encoding: 'utf8',
    timeout: 120_000,
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

export interface KeygateNode {
  readonly url: string;
  readonly process: ChildProcess;
  /** Everything the node wrote to stdout and stderr so far. */
  output(): string;
  /** Resolves with the exit code once the process has exited. */
  exited: Promise<number | null>;
}

/** Starts `keygate serve` as its own process and waits until it serves. */
export async function startNode(env: Record<string, string>, port: number): Promise<KeygateNode> {
  const child = spawn(process.execPath, ['--import', 'tsx', ENTRY, 'serve'], {
    env: { ...process.env, KEYGATE_LOG_LEVEL: 'info', ...env, PORT: String(port), KEYGATE_HOST: '127.0.0.1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => { output += chunk.toString(); });
  child.stderr!.on('data', (chunk: Buffer) => { output += chunk.toString(); });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`node on port ${port} did not start: ${output}`)), 120_000);
    const check = () => {
      if (output.includes('Keygate is serving')) {
        clearTimeout(timer);
        child.stdout!.off('data', check);
        resolve();
      }
    };
    child.stdout!.on('data', check);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`node on port ${port} exited with ${code}: ${output}`));
    });
  });
  return { url: `http://127.0.0.1:${port}`, process: child, output: () => output, exited };
}
