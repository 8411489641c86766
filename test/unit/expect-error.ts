import { parseConfigText } from '../../config/load';

/** The `type` of the DrillError a call throws, or undefined when it does not throw. */
export function errorType(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    return (e as { type?: string }).type;
  }
  return undefined;
}

/** The message of the BadConfig a configuration text is refused with; fails the test when it is accepted. */
export function configProblems(yaml: string): string {
  try {
    parseConfigText(yaml, 'test.yaml');
  } catch (err) {
    expect((err as { type?: string }).type).toBe('BadConfig');
    return (err as Error).message;
  }
  throw new Error('expected the configuration to be refused');
}
