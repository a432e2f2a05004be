// What /proc says about the servers under test: their workers, CPU time and resident memory.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

const TICKS_PER_SECOND = 100; // CLK_TCK on Linux

/** The fields of /proc/<pid>/stat after the command: state(0) ppid(1) … utime(11) stime(12) cutime(13) cstime(14); null once it has gone. */
function statOf(pid: number): number[] | null {
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ').map(Number);
  } catch {
    return null;
  }
}

/**
 * CPU seconds used so far by a group of processes, counting those that have exited too: a
 * parent outside the group that reaped its children (PostgreSQL's postmaster its
 * backends) carries their time in its cutime and cstime, so a backend that closes between
 * two readings is not lost.
 */
export function groupCpuSeconds(pids: readonly number[]): number {
  const members = new Set(pids);
  return pids.reduce((sum, pid) => {
    const fields = statOf(pid);
    if (!fields) return sum;
    const reaped = members.has(fields[1]!) ? 0 : fields[13]! + fields[14]!;
    return sum + (fields[11]! + fields[12]! + reaped) / TICKS_PER_SECOND;
  }, 0);
}

/** CPU seconds used so far by a process and its live children (the cluster workers). */
export function cpuSeconds(pid: number, withChildren = true): number {
  const pids = [pid, ...(withChildren ? workersOf(pid).filter((p) => p !== pid) : [])];
  return pids.reduce((sum, p) => {
    const fields = statOf(p);
    return fields ? sum + (fields[11]! + fields[12]!) / TICKS_PER_SECOND : sum;
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
