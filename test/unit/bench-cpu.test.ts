import { cpuBetween } from '../../bench/cpu';
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
