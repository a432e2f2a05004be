// What /proc says about the servers under test: their workers, CPU time and resident memory.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

/** CPU seconds used so far by a process and its children (the cluster workers). */
export function cpuSeconds(pid: number, withChildren = true): number {
  const children = withChildren ? spawnSync('pgrep', ['-P', String(pid)], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean).map(Number) : [];
  const pids = [pid, ...children];
  const ticks = 100; // CLK_TCK on Linux
  return pids.reduce((sum, p) => {
    try {
      const fields = readFileSync(`/proc/${p}/stat`, 'utf8').split(') ')[1]!.split(' ');
      return sum + (Number(fields[11]) + Number(fields[12])) / ticks;
    } catch {
      return sum;
    }
  }, 0);
}

/** The cluster workers of a process, or the process itself when it has none. */
export function workersOf(pid: number): number[] {
  const children = spawnSync('pgrep', ['-P', String(pid)], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean).map(Number);
  return children.length > 0 ? children : [pid];
}

/** Resident memory (VmRSS) of each process, in MiB; 0 for one that has gone. */
export function vmRssMiB(pids: number[]): number[] {
  return pids.map((p) => {
    let status = '';
    try {
      status = readFileSync(`/proc/${p}/status`, 'utf8');
    } catch {
      return 0;
    }
    const match = /VmRSS:\s+(\d+) kB/.exec(status);
    return match ? Math.round(Number(match[1]) / 1024) : 0;
  });
}

/** Resident memory of each worker (or of the process itself when it has none), in MiB. */
export const residentMiB = (pid: number): number[] => vmRssMiB(workersOf(pid));
