import { cpuBetween, procStatCpuSeconds, processCpuSeconds } from '../../bench/cpu';
import type { CpuSample } from '../../bench/cpu';

const at = (atMs: number, workerSeconds: number, containers: Record<string, number>): CpuSample => ({ atMs, workerSeconds, containers: new Map(Object.entries(containers)) });
const isSandbox = (n: string) => n.startsWith('rd-sandbox-');

describe('bench: CPU of a window', () => {
  const samples = [
    at(0, 1, { 'rd-sandbox-a': 0.5, 'bench-src-x': 10 }),
    at(1000, 1.5, { 'rd-sandbox-a': 1, 'bench-src-x': 10 }),
    at(2000, 2, { 'rd-sandbox-a': 2.5, 'bench-src-x': 11, tool: 0.2 }),
    at(3000, 2.5, { 'rd-sandbox-a': 4, 'bench-src-x': 12, tool: 0.4 }),
    at(4000, 3, { 'bench-src-x': 13 }),
  ];

  test("counts the server's and the worker's CPU between the samples nearest the window's ends", () => {
    expect(cpuBetween(samples, 1000, 3000, 1000, isSandbox)).toEqual({ server: 3, worker: 1, other: 0 });
  });

  test('a container that appears within the window counts from zero; one removed within it keeps its last value', () => {
    expect(cpuBetween(samples, 1000, 4000, 1000, isSandbox, (n) => n === 'tool')).toEqual({ server: 3, worker: 1.5, other: 0.4 });
  });

  test('a window without two samples is unknown, not zero', () => {
    expect(cpuBetween(samples, 10_000, 11_000, 1000, isSandbox).server).toBeNaN();
  });
});

describe("bench: a worker process's CPU from /proc/PID/stat", () => {
  test('adds utime and stime (fields 14 and 15), in clock ticks of 1/100 s', () => {
    const stat = '4242 (node) S 1 4242 4242 0 -1 4194304 1000 0 0 0 1234 56 0 0 20 0 11 0 100 0 0';
    expect(procStatCpuSeconds(stat)).toBeCloseTo(12.9, 6);
  });

  test('a command name with spaces and parentheses does not shift the fields', () => {
    const stat = '77 (node (bench) x) R 1 77 77 0 -1 0 0 0 0 0 300 200 0 0 20 0 1 0 5 0 0';
    expect(procStatCpuSeconds(stat)).toBeCloseTo(5, 6);
  });

  test("this process's own line gives what process.cpuUsage says, to a few ticks", () => {
    let x = 0;
    for (let i = 0; i < 2e7; i++) x += i % 7;
    expect(x).toBeGreaterThan(0);
    const u = process.cpuUsage();
    expect(Math.abs(processCpuSeconds(process.pid) - (u.user + u.system) / 1e6)).toBeLessThan(0.1);
  });

  test('a process that is gone reads NaN', () => {
    expect(processCpuSeconds(2 ** 22 + 12345)).toBeNaN();
  });
});
